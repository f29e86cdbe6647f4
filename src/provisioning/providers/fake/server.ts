// A fake Vonage for tests, the demo and benchmarks (`capconduit simulate-carrier`): Vonage's paths,
// auth (key/secret as query or form parameters, or Basic), form and JSON shapes and error bodies, a
// deterministic inventory per NPA, and faults switched on per NPA or at a rate, in process or over
// `POST /_fake/faults`. The Vonage client talks to it unchanged; `GET /_fake/state` shows what it holds.
// Over 400 lines on purpose: one carrier's handlers share one state (owners, accounts, one-shot faults),
// and reading a fault next to the handler it bends is what a test author needs.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { matches, npaInventory, npaOf, seeded } from './inventory.ts';

/** Per-NPA behaviour; the `*-once` faults hit the first buy of each number in the NPA only. */
export type NpaFault =
  | 'no-inventory'
  | 'buy-420-succeeded'
  | 'buy-429-once'
  | 'buy-5xx-once'
  | 'buy-5xx-always'
  | 'taken-after-search'
  | 'slow';

export interface FakeFaults {
  npa: Record<string, NpaFault>;
  /** Requests per second allowed per API key (sliding second); beyond it 429 with Retry-After. 0: none. */
  rateLimitPerSec: number;
  /** Share of all requests answered 429 / 503 before doing anything (seeded, repeatable). */
  rate429: number;
  rate5xx: number;
  /**
   * The Retry-After of every 429, in seconds (Vonage sends 1). Tests whose subject is not the wait set
   * less: each 429 holds the whole account back for it, one after another.
   */
  retryAfterS: number;
  /** How long slow answers take (NPA `slow`, or `slowRate` of every request). */
  slowMs: number;
  slowRate: number;
  /** The primary account lacks the Subaccounts / Programmable SIP APIs (403 unprovisioned). */
  notProvisioned: boolean;
  maxSubaccounts: number;
}

export interface FakeCarrierOptions {
  apiKey: string;
  apiSecret: string;
  inventoryPerNpa?: number;
  seed?: number;
  faults?: Partial<FakeFaults>;
}

interface Owned {
  owner: string;
  country: string;
  type: string;
  features: string[];
  voiceCallbackType?: string;
  voiceCallbackValue?: string;
  app_id?: string;
}

interface Account {
  apiKey: string;
  secret: string;
  name: string;
  primary: string | null;
  createdAt: string;
}

export interface FakeStats {
  /** Every request: API key, path, status, when (ms since epoch). */
  requests: Array<{ key: string; path: string; status: number; at: number }>;
  /** Every purchase the fake applied (a second purchase of one number by us would show here twice). */
  buys: Array<{ msisdn: string; account: string; at: number }>;
}

const OTHER = 'someone-else';
/** Vonage's bodies for a change done, and for one refused (not the account's number, or a fault). */
const SUCCESS = { 'error-code': '200', 'error-code-label': 'success' };
const METHOD_FAILED = { 'error-code': '420', 'error-code-label': 'method failed' };

export class FakeCarrier {
  readonly faults: FakeFaults;
  readonly owned = new Map<string, Owned>();
  readonly accounts = new Map<string, Account>();
  readonly domains = new Map<string, { name: string; application_id: string | null; acl: string[] }>();
  readonly stats: FakeStats = { requests: [], buys: [] };
  private server: Server | null = null;
  private hit = new Set<string>(); // `${fault}:${msisdn}` of one-shot faults already served
  private recent = new Map<string, number[]>();
  private rand: () => number;
  private inventory: number;
  url = '';

  constructor(o: FakeCarrierOptions) {
    this.inventory = o.inventoryPerNpa ?? 20;
    this.rand = seeded(o.seed ?? 1);
    this.faults = {
      npa: {},
      rateLimitPerSec: 0,
      rate429: 0,
      rate5xx: 0,
      retryAfterS: 1,
      slowMs: 0,
      slowRate: 0,
      notProvisioned: false,
      maxSubaccounts: 1000,
      ...o.faults,
    };
    this.accounts.set(o.apiKey, {
      apiKey: o.apiKey,
      secret: o.apiSecret,
      name: 'primary',
      primary: null,
      createdAt: new Date().toISOString(),
    });
  }

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        if (!res.headersSent) send(res, 500, { type: 'about:blank', title: 'Internal error' });
      });
    });
    this.server.keepAliveTimeout = 5000;
    await new Promise<void>((r) => this.server!.listen(port, host, r));
    const a = this.server.address() as { port: number };
    this.url = `http://${host}:${a.port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const s = this.server;
    if (!s) return;
    this.server = null;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }

  /** Numbers an account owns (the primary's key or a subaccount's). */
  ownedBy(apiKey: string): string[] {
    return [...this.owned].filter(([, o]) => o.owner === apiKey).map(([m]) => m);
  }

  setFaults(f: Partial<FakeFaults>): void {
    Object.assign(this.faults, f);
  }

  private once(tag: string, msisdn: string): boolean {
    const k = `${tag}:${msisdn}`;
    if (this.hit.has(k)) return false;
    this.hit.add(k);
    return true;
  }

  private rateLimited(key: string): boolean {
    const limit = this.faults.rateLimitPerSec;
    if (!limit) return false;
    const now = Date.now();
    const list = (this.recent.get(key) ?? []).filter((t) => now - t < 1000);
    if (list.length >= limit) {
      this.recent.set(key, list);
      return true;
    }
    list.push(now);
    this.recent.set(key, list);
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const raw = await readBody(req);
    const form: Record<string, string> = {};
    let json: Record<string, unknown> = {};
    const ct = String(req.headers['content-type'] ?? '');
    if (ct.startsWith('application/x-www-form-urlencoded'))
      for (const [k, v] of new URLSearchParams(raw)) form[k] = v;
    else if (ct.startsWith('application/json') && raw) {
      try {
        json = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send(res, 400, problem('validation', 'Bad Request', 'body is not JSON'));
      }
    }
    const path = url.pathname;
    if (path.startsWith('/_fake/')) return this.control(path, req.method ?? 'GET', json, res);

    // Auth: Basic, or api_key/api_secret in the query or the form (the Numbers API takes both).
    let key = url.searchParams.get('api_key') ?? form.api_key ?? '';
    let secret = url.searchParams.get('api_secret') ?? form.api_secret ?? '';
    const basic = /^Basic (.+)$/i.exec(String(req.headers.authorization ?? ''));
    if (basic) [key = '', secret = ''] = Buffer.from(basic[1]!, 'base64').toString().split(':');
    const account = this.accounts.get(key);
    const numbersApi = path.startsWith('/number/') || path.startsWith('/account/');
    const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      this.stats.requests.push({ key, path, status, at: Date.now() });
      send(res, status, body, headers);
    };
    if (!account || account.secret !== secret || (!numbersApi && !basic))
      return reply(
        401,
        numbersApi
          ? { 'error-code': '401', 'error-code-label': 'authentication failed' }
          : problem('unauthorized', 'Invalid credentials', 'You did not provide correct credentials.'),
      );
    if (this.rateLimited(key))
      return reply(
        429,
        numbersApi
          ? { 'error-code': '429', 'error-code-label': 'throttled' }
          : problem('throttled', 'Too Many Requests', 'rate limit exceeded'),
        {
          'retry-after': String(this.faults.retryAfterS),
        },
      );
    if (this.faults.rate429 && this.rand() < this.faults.rate429)
      return reply(
        429,
        { 'error-code': '429', 'error-code-label': 'throttled' },
        { 'retry-after': String(this.faults.retryAfterS) },
      );
    if (this.faults.rate5xx && this.rand() < this.faults.rate5xx)
      return reply(503, { 'error-code': '503', 'error-code-label': 'service unavailable' });
    if (this.faults.slowRate && this.rand() < this.faults.slowRate) await sleep(this.faults.slowMs);

    const m = req.method ?? 'GET';
    if (m === 'GET' && path === '/number/search') return this.search(url.searchParams, reply);
    if (m === 'GET' && path === '/account/numbers') return this.list(key, url.searchParams, reply);
    if (m === 'POST' && path === '/number/buy') return this.buy(account, form, reply);
    if (m === 'POST' && path === '/number/cancel') return this.cancel(account, form, reply);
    if (m === 'POST' && path === '/number/update') return this.update(account, form, reply);
    const sa = /^\/accounts\/([^/]+)\/(subaccounts|transfer-number)$/.exec(path);
    if (sa) {
      if (this.faults.notProvisioned)
        return reply(
          403,
          problem(
            'unprovisioned',
            'Authorisation error',
            `Account ${key} is not provisioned to access Subaccount Provisioning API`,
          ),
        );
      if (decodeURIComponent(sa[1]!) !== key || account.primary)
        return reply(
          403,
          problem('unauthorized', 'Authorisation error', 'Account is not the primary account'),
        );
      if (sa[2] === 'transfer-number' && m === 'POST') return this.transfer(key, json, reply);
      if (m === 'GET') return reply(200, this.subaccounts(key));
      if (m === 'POST') return this.createSubaccount(key, json, reply);
    }
    if (path === '/v1/psip' || path.startsWith('/v1/psip/')) {
      if (this.faults.notProvisioned)
        return reply(
          403,
          problem(
            'unprovisioned',
            'Authorisation error',
            `Account ${key} is not provisioned to access Programmable SIP`,
          ),
        );
      return this.psip(m, decodeURIComponent(path.slice('/v1/psip/'.length)), json, reply);
    }
    return reply(404, problem('not-found', 'Not Found', `no route ${m} ${path}`));
  }

  private search(q: URLSearchParams, reply: Reply): void {
    const size = Number(q.get('size') ?? 10);
    const index = Number(q.get('index') ?? 1);
    if (q.get('country') === null)
      return reply(400, { 'error-code': '400', 'error-code-label': 'missing country' });
    if (!(size >= 1 && size <= 100) || !(index >= 1))
      return reply(400, { 'error-code': '400', 'error-code-label': 'size must be 1..100 and index >= 1' });
    const pattern = q.get('pattern') ?? undefined;
    const sp = Number(q.get('search_pattern') ?? 0);
    const type = q.get('type');
    const features = (q.get('features') ?? '').split(',').filter(Boolean);
    if (q.get('country') !== 'US' || (type && type !== 'landline')) return reply(200, { count: 0 });
    if (features.some((f) => !['VOICE', 'SMS'].includes(f))) return reply(200, { count: 0 });
    // A starts-with pattern names its NPA (`1415…` or `415…`); any other search scans every NPA.
    const npa = pattern && sp === 0 ? (/^1?([2-9]\d\d)/.exec(pattern)?.[1] ?? null) : null;
    const npas = npa ? [npa] : Array.from({ length: 800 }, (_, i) => String(200 + i));
    const candidates = npas.flatMap((x) =>
      npaInventory(x, this.faults.npa[x] === 'no-inventory' ? 0 : this.inventory),
    );
    const free = candidates.filter((n) => !this.owned.has(n) && matches(n, pattern, sp));
    const pageOf = free.slice((index - 1) * size, index * size);
    if (npa && this.faults.npa[npa] === 'taken-after-search' && pageOf[0] && this.once('taken', npa))
      this.owned.set(pageOf[0], {
        owner: OTHER,
        country: 'US',
        type: 'landline',
        features: ['VOICE', 'SMS'],
      });
    if (!free.length) return reply(200, { count: 0 });
    return reply(200, {
      count: free.length,
      numbers: pageOf.map((msisdn) => ({
        country: 'US',
        msisdn,
        type: 'landline',
        cost: '0.90',
        features: ['VOICE', 'SMS'],
      })),
    });
  }

  private list(key: string, q: URLSearchParams, reply: Reply): void {
    const size = Math.min(100, Number(q.get('size') ?? 10));
    const index = Number(q.get('index') ?? 1);
    const pattern = q.get('pattern') ?? undefined;
    const sp = Number(q.get('search_pattern') ?? 0);
    const mine = [...this.owned]
      .filter(([m, o]) => o.owner === key && matches(m, pattern, sp))
      .sort(([a], [b]) => a.localeCompare(b));
    if (!mine.length) return reply(200, { count: 0 });
    return reply(200, {
      count: mine.length,
      numbers: mine.slice((index - 1) * size, index * size).map(([msisdn, o]) => ({
        country: o.country,
        msisdn,
        type: o.type,
        features: o.features,
        ...(o.voiceCallbackType
          ? { voiceCallbackType: o.voiceCallbackType, voiceCallbackValue: o.voiceCallbackValue }
          : {}),
        ...(o.app_id ? { app_id: o.app_id } : {}),
      })),
    });
  }

  /** The account a Numbers API write acts for: the caller, or its subaccount named by target_api_key. */
  private target(account: Account, form: Record<string, string>): string | null {
    const t = form.target_api_key;
    if (!t || t === account.apiKey) return account.apiKey;
    return this.accounts.get(t)?.primary === account.apiKey ? t : null;
  }

  private async buy(account: Account, form: Record<string, string>, reply: Reply): Promise<void> {
    const owner = this.target(account, form);
    if (!owner) return reply(401, { 'error-code': '401', 'error-code-label': 'authentication failed' });
    const msisdn = form.msisdn ?? '';
    const npa = npaOf(msisdn);
    const fault = npa ? this.faults.npa[npa] : undefined;
    if (fault === 'slow') await sleep(this.faults.slowMs);
    const failed = () => reply(420, METHOD_FAILED);
    if (
      !npa ||
      form.country !== 'US' ||
      !npaInventory(npa, fault === 'no-inventory' ? 0 : this.inventory).includes(msisdn)
    )
      return failed();
    if (this.owned.has(msisdn)) return failed();
    if (fault === 'buy-429-once' && this.once('429', msisdn))
      return reply(
        429,
        { 'error-code': '429', 'error-code-label': 'throttled' },
        { 'retry-after': String(this.faults.retryAfterS) },
      );
    if (fault === 'buy-5xx-always' || (fault === 'buy-5xx-once' && this.once('5xx', msisdn)))
      return reply(500, { 'error-code': '500', 'error-code-label': 'internal error' });
    this.owned.set(msisdn, { owner, country: 'US', type: 'landline', features: ['VOICE', 'SMS'] });
    this.stats.buys.push({ msisdn, account: owner, at: Date.now() });
    if (fault === 'buy-420-succeeded' && this.once('420', msisdn)) return failed();
    return reply(200, SUCCESS);
  }

  /** The number the form names, when the account it acts for (itself or a subaccount) holds it. */
  private heldNumber(account: Account, form: Record<string, string>) {
    const owner = this.target(account, form);
    const o = this.owned.get(form.msisdn ?? '');
    return owner && o?.owner === owner ? o : undefined;
  }

  private cancel(account: Account, form: Record<string, string>, reply: Reply): void {
    if (!this.heldNumber(account, form)) return reply(420, METHOD_FAILED);
    this.owned.delete(form.msisdn!);
    return reply(200, SUCCESS);
  }

  private update(account: Account, form: Record<string, string>, reply: Reply): void {
    const o = this.heldNumber(account, form);
    if (!o) return reply(420, METHOD_FAILED);
    if (form.app_id) {
      o.app_id = form.app_id;
      delete o.voiceCallbackType;
      delete o.voiceCallbackValue;
    } else if (form.voiceCallbackType) {
      if (!['sip', 'tel', 'app'].includes(form.voiceCallbackType) || !form.voiceCallbackValue)
        return reply(400, {
          'error-code': '400',
          'error-code-label': 'invalid voiceCallbackType/voiceCallbackValue',
        });
      o.voiceCallbackType = form.voiceCallbackType;
      o.voiceCallbackValue = form.voiceCallbackValue;
      delete o.app_id;
    }
    return reply(200, SUCCESS);
  }

  private subaccounts(primary: string) {
    const p = this.accounts.get(primary)!;
    const view = (a: Account) => ({
      api_key: a.apiKey,
      name: a.name,
      primary_account_api_key: a.primary ?? undefined,
      use_primary_account_balance: true,
      created_at: a.createdAt,
      suspended: false,
      balance: null,
      credit_limit: null,
    });
    return {
      total_balance: 100,
      total_credit_limit: 0,
      _embedded: {
        primary_account: view(p),
        subaccounts: [...this.accounts.values()].filter((a) => a.primary === primary).map(view),
      },
    };
  }

  private createSubaccount(primary: string, body: Record<string, unknown>, reply: Reply): void {
    if (typeof body.name !== 'string' || !body.name || body.name.length > 80)
      return reply(
        422,
        problem('validation', 'Bad Request', 'The request failed due to validation errors', {
          invalid_parameters: [{ reason: 'Malformed', name: 'name' }],
        }),
      );
    if ([...this.accounts.values()].filter((a) => a.primary === primary).length >= this.faults.maxSubaccounts)
      return reply(
        403,
        problem('provisioning', 'Authorisation error', 'Maximum number of sub-accounts reached'),
      );
    const a: Account = {
      apiKey: randomBytes(4).toString('hex'),
      secret: typeof body.secret === 'string' ? body.secret : `S${randomBytes(9).toString('base64url')}1`,
      name: body.name,
      primary,
      createdAt: new Date().toISOString(),
    };
    this.accounts.set(a.apiKey, a);
    return reply(201, {
      api_key: a.apiKey,
      secret: a.secret,
      primary_account_api_key: primary,
      use_primary_account_balance: true,
      name: a.name,
      balance: null,
      credit_limit: null,
      suspended: false,
      created_at: a.createdAt,
    });
  }

  private transfer(primary: string, body: Record<string, unknown>, reply: Reply): void {
    const { from, to, number, country } = body as Record<string, string>;
    const family = (k: string | undefined) =>
      !!k && (k === primary || this.accounts.get(k)?.primary === primary);
    if (!family(from) || !family(to) || typeof number !== 'string' || typeof country !== 'string')
      return reply(
        422,
        problem(
          'invalid-transfers',
          'Invalid transfer',
          'from and to must be the primary account or its subaccounts',
        ),
      );
    const o = this.owned.get(number);
    if (o?.owner === to)
      return reply(409, problem('transfer-conflict', 'Conflict', `${number} is already owned by ${to}`));
    if (!o || o.owner !== from)
      return reply(
        404,
        problem('missing-number-transfer', 'Invalid Number Transfer', `${number} not found in ${from}`),
      );
    o.owner = to!;
    return reply(200, { number, country, from, to });
  }

  private psip(method: string, name: string, body: Record<string, unknown>, reply: Reply): void {
    if (method === 'GET' && !name) return reply(200, [...this.domains.values()]);
    if (method === 'GET') {
      const d = this.domains.get(name);
      return d ? reply(200, d) : reply(404, problem('not-found', 'Not Found', `domain ${name} not found`));
    }
    if (method === 'POST' && !name) {
      const acl = body.acl;
      if (
        typeof body.name !== 'string' ||
        !/^[a-z0-9-]{3,63}$/.test(body.name) ||
        (acl !== undefined && !Array.isArray(acl))
      )
        return reply(400, problem('validation', 'Bad Request', 'name must be 3-63 of a-z 0-9 -; acl a list'));
      if (this.domains.has(body.name))
        return reply(409, problem('conflict', 'Conflict', `domain ${body.name} exists`));
      const d = {
        name: body.name,
        application_id: typeof body.application_id === 'string' ? body.application_id : null,
        acl: (acl as string[] | undefined) ?? [],
      };
      this.domains.set(d.name, d);
      return reply(201, d);
    }
    if (method === 'DELETE' && name) {
      if (!this.domains.delete(name))
        return reply(404, problem('not-found', 'Not Found', `domain ${name} not found`));
      return reply(204, null);
    }
    return reply(405, problem('method', 'Method Not Allowed', method));
  }

  private control(path: string, method: string, json: Record<string, unknown>, res: ServerResponse): void {
    if (path === '/_fake/faults' && method === 'POST') {
      this.setFaults(json as Partial<FakeFaults>);
      return send(res, 200, this.faults);
    }
    if (path === '/_fake/state' && method === 'GET')
      return send(res, 200, {
        owned: Object.fromEntries(this.owned),
        subaccounts: [...this.accounts.values()]
          .filter((a) => a.primary)
          .map((a) => ({ api_key: a.apiKey, name: a.name })),
        buys: this.stats.buys,
        requests: this.stats.requests.length,
        faults: this.faults,
      });
    return send(res, 404, problem('not-found', 'Not Found', path));
  }
}

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

function problem(code: string, title: string, detail: string, extra: Record<string, unknown> = {}) {
  return {
    type: `https://developer.nexmo.com/api-errors#${code}`,
    title,
    detail,
    instance: randomUUID(),
    ...extra,
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (status === 204 || body === null) {
    res.writeHead(status, headers).end();
    return;
  }
  const problemDoc = typeof body === 'object' && body !== null && 'type' in body && 'title' in body;
  res
    .writeHead(status, {
      'content-type': problemDoc ? 'application/problem+json' : 'application/json',
      ...headers,
    })
    .end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      s += d;
      if (s.length > 1_000_000) req.destroy();
    });
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
