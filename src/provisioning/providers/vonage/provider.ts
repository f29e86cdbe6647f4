// Vonage behind the Provider interface: the Numbers API (rest host, form-encoded writes, `error-code`
// bodies, `target_api_key` to act for a subaccount), the Subaccounts API and Programmable SIP (api
// host, JSON, Basic auth, RFC 7807 errors). Vonage answers every purchase at once, so every Outcome is
// `done`; a 420 on a write is reported as `uncertain` and the caller checks ownership before retrying.
import {
  type AccountRef,
  type AvailableNumber,
  type NumberRef,
  type Outcome,
  type OwnedNumber,
  type Provider,
  ProviderError,
  type SearchQuery,
  type SipDomain,
  type Subaccount,
  type VoiceRouting,
} from '../types.ts';
import { type HttpOptions, type VonageCredentials, VonageHttp } from './http.ts';

const DONE: Outcome = { status: 'done' };
const MATCH = { starts: 0, contains: 1, ends: 2 } as const;

interface VonageNumber {
  country: string;
  msisdn: string;
  type?: string;
  cost?: string;
  features?: string[];
  voiceCallbackType?: string;
  voiceCallbackValue?: string;
  app_id?: string;
}

interface VonageSubaccount {
  api_key: string;
  name: string;
  secret?: string;
  suspended?: boolean;
}

interface VonageDomain {
  name: string;
  application_id?: string | null;
  acl?: string[];
}

/** What a number search and the account's number list both say of a number. */
const listed = (n: VonageNumber) => ({
  country: n.country,
  msisdn: n.msisdn,
  type: n.type ?? 'landline',
  features: n.features ?? [],
});

function routingOf(n: VonageNumber): VoiceRouting | null {
  if (n.app_id) return { type: 'app', value: n.app_id };
  if ((n.voiceCallbackType === 'sip' || n.voiceCallbackType === 'tel') && n.voiceCallbackValue)
    return { type: n.voiceCallbackType, value: n.voiceCallbackValue };
  return null;
}

const sub = (s: VonageSubaccount): Subaccount => ({
  apiKey: s.api_key,
  name: s.name,
  suspended: s.suspended === true,
  ...(s.secret ? { secret: s.secret } : {}),
});

export interface VonageOptions extends HttpOptions {
  /**
   * A subaccount's own credentials: the Numbers API lists an account's numbers only to that account's
   * key (GET /account/numbers has no target_api_key), so listing a subaccount's numbers needs them.
   */
  subaccountCredentials?: ((apiKey: string) => Promise<VonageCredentials>) | undefined;
}

export class VonageProvider implements Provider {
  readonly kind = 'vonage';
  private http: VonageHttp;

  constructor(
    creds: VonageCredentials,
    private opts: VonageOptions,
  ) {
    this.http = new VonageHttp(creds, opts);
  }

  private async httpFor(account: AccountRef): Promise<VonageHttp> {
    if (!account || account === this.http.apiKey) return this.http;
    if (!this.opts.subaccountCredentials)
      throw new ProviderError('invalid', `no credentials known for subaccount ${account}`);
    return new VonageHttp(await this.opts.subaccountCredentials(account), this.opts);
  }

  async search(q: SearchQuery): Promise<{ count: number; numbers: AvailableNumber[] }> {
    if (q.size !== undefined && (q.size < 1 || q.size > 100))
      throw new ProviderError('invalid', 'search: size must be 1..100');
    const { body } = await this.http.send({
      operation: 'search',
      method: 'GET',
      host: 'rest',
      path: 'number/search',
      auth: 'params',
      mutates: false,
      query: {
        country: q.country,
        type: q.type,
        pattern: q.pattern,
        search_pattern: q.pattern ? MATCH[q.match ?? 'starts'] : undefined,
        features: q.features?.length ? q.features.join(',') : undefined,
        size: q.size,
        index: q.index,
      },
    });
    const b = body as { count?: number; numbers?: VonageNumber[] };
    return {
      count: b.count ?? 0,
      numbers: (b.numbers ?? []).map((n) => ({ ...listed(n), cost: n.cost })),
    };
  }

  buy(n: NumberRef, account: AccountRef): Promise<Outcome> {
    return this.changeNumber('buy', n, account);
  }

  configure(n: NumberRef, r: VoiceRouting, account: AccountRef): Promise<Outcome> {
    return this.changeNumber(
      'update',
      n,
      account,
      r.type === 'app' ? { app_id: r.value } : { voiceCallbackType: r.type, voiceCallbackValue: r.value },
    );
  }

  release(n: NumberRef, account: AccountRef): Promise<Outcome> {
    return this.changeNumber('cancel', n, account);
  }

  /**
   * A change to one number of `account` (POST number/<operation>, credentials in the form), done once
   * Vonage answers: buy, update, cancel.
   */
  private async changeNumber(
    operation: 'buy' | 'update' | 'cancel',
    n: NumberRef,
    account: AccountRef,
    fields: Record<string, string> = {},
  ): Promise<Outcome> {
    await this.http.send({
      operation,
      method: 'POST',
      host: 'rest',
      path: `number/${operation}`,
      auth: 'params',
      mutates: true,
      form: { country: n.country, msisdn: n.msisdn, ...fields, target_api_key: account },
    });
    return DONE;
  }

  async orderStatus(_orderId: string): Promise<Outcome> {
    return DONE;
  }

  async owned(
    account: AccountRef,
    q: { pattern?: string | undefined; index?: number | undefined; size?: number | undefined } = {},
  ): Promise<{ count: number; numbers: OwnedNumber[] }> {
    const http = await this.httpFor(account);
    const { body } = await http.send({
      operation: 'owned',
      method: 'GET',
      host: 'rest',
      path: 'account/numbers',
      auth: 'params',
      mutates: false,
      query: {
        pattern: q.pattern,
        search_pattern: q.pattern ? MATCH.contains : undefined,
        index: q.index,
        size: q.size,
      },
    });
    const b = body as { count?: number; numbers?: VonageNumber[] };
    return {
      count: b.count ?? 0,
      numbers: (b.numbers ?? []).map((n) => ({ ...listed(n), voice: routingOf(n) })),
    };
  }

  async createSubaccount(name: string, secret?: string): Promise<Subaccount> {
    const { body } = await this.http.send({
      operation: 'subaccount_create',
      method: 'POST',
      host: 'api',
      path: `accounts/${encodeURIComponent(this.http.apiKey)}/subaccounts`,
      auth: 'basic',
      mutates: true,
      json: { name, ...(secret ? { secret } : {}), use_primary_account_balance: true },
    });
    return sub(body as VonageSubaccount);
  }

  async listSubaccounts(): Promise<Subaccount[]> {
    const { body } = await this.http.send({
      operation: 'subaccount_list',
      method: 'GET',
      host: 'api',
      path: `accounts/${encodeURIComponent(this.http.apiKey)}/subaccounts`,
      auth: 'basic',
      mutates: false,
    });
    const list = (body as { _embedded?: { subaccounts?: VonageSubaccount[] } })._embedded?.subaccounts ?? [];
    return list.map(sub);
  }

  async transfer(n: NumberRef, from: string, to: string): Promise<Outcome> {
    await this.http.send({
      operation: 'transfer_number',
      method: 'POST',
      host: 'api',
      path: `accounts/${encodeURIComponent(this.http.apiKey)}/transfer-number`,
      auth: 'basic',
      mutates: true,
      json: { from, to, number: n.msisdn, country: n.country },
    });
    return DONE;
  }

  async createSipDomain(d: SipDomain): Promise<SipDomain> {
    const { body } = await this.http.send({
      operation: 'psip_create',
      method: 'POST',
      host: 'api',
      path: 'v1/psip',
      auth: 'basic',
      mutates: true,
      json: { name: d.name, application_id: d.applicationId, acl: d.acl },
    });
    const r = body as VonageDomain;
    return { name: r.name, applicationId: r.application_id ?? null, acl: r.acl ?? [] };
  }

  async listSipDomains(): Promise<SipDomain[]> {
    const { body } = await this.http.send({
      operation: 'psip_list',
      method: 'GET',
      host: 'api',
      path: 'v1/psip',
      auth: 'basic',
      mutates: false,
    });
    const list = Array.isArray(body)
      ? (body as VonageDomain[])
      : ((body as { domains?: VonageDomain[] }).domains ?? []);
    return list.map((r) => ({ name: r.name, applicationId: r.application_id ?? null, acl: r.acl ?? [] }));
  }

  async deleteSipDomain(name: string): Promise<void> {
    await this.http.send({
      operation: 'psip_delete',
      method: 'DELETE',
      host: 'api',
      path: `v1/psip/${encodeURIComponent(name)}`,
      auth: 'basic',
      mutates: true,
    });
  }
}
