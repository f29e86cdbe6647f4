// The one HTTP layer under the Vonage client: a time budget per request, auth as each Vonage API wants
// it, one latency observation per request, and every failure turned into a ProviderError whose `kind`
// says what a caller may do next. Vonage has two error dialects: the Numbers API answers JSON with an
// `error-code` string (and HTTP 420 "method failed" for many refusals), the newer APIs (Subaccounts,
// Programmable SIP) answer RFC 7807 problem documents.
import { ProviderError, type ProviderErrorKind } from '../types.ts';

export interface VonageCredentials {
  apiKey: string;
  apiSecret: string;
}

export interface HttpOptions {
  /** Numbers API host (https://rest.nexmo.com in production). */
  restUrl: string;
  /** Subaccounts and Programmable SIP host (https://api.nexmo.com in production). */
  apiUrl: string;
  /** Longest wait for one answer; past it a read is retried later and a write is checked first. */
  timeoutMs: number;
  /** Called before every request (a shared rate limiter waits here). */
  beforeRequest?: (() => Promise<void>) | undefined;
  /** Called with a carrier's 429 (and its Retry-After, if any) so every worker of the account backs off. */
  onThrottled?: ((retryAfterMs: number | undefined) => void | Promise<void>) | undefined;
  observe?: ((operation: string, outcome: string, seconds: number) => void) | undefined;
}

export interface Call {
  operation: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  host: 'rest' | 'api';
  path: string;
  /** Numbers API: key/secret in the query (GET) or the form (POST). Others: Basic. */
  auth: 'params' | 'basic';
  query?: Record<string, string | number | undefined> | undefined;
  form?: Record<string, string | undefined> | undefined;
  json?: unknown;
  /** A write: a timeout or 5xx may hide a success, so it is `uncertain`, not `transient`. */
  mutates: boolean;
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const t = Date.parse(h);
  return Number.isFinite(t) ? Math.max(0, t - Date.now()) : undefined;
}

/** Vonage's problem-document `type` ends in a code after `#` (…/api-errors#unprovisioned). */
function problemCode(body: unknown): string | undefined {
  const t = (body as { type?: unknown } | null)?.type;
  return typeof t === 'string' ? t.split('#').pop() : undefined;
}

/** A Numbers API answer's error code (a string in the JSON body), if any. */
export function numbersErrorCode(body: unknown): string | undefined {
  const c = (body as Record<string, unknown> | null)?.['error-code'];
  return typeof c === 'string' || typeof c === 'number' ? String(c) : undefined;
}

/** How a failed answer is to be treated (pure: status + body + whether the call writes). */
export function classify(status: number, body: unknown, mutates: boolean): ProviderErrorKind {
  if (status === 429) return 'transient';
  if (status >= 500) return mutates ? 'uncertain' : 'transient';
  if (status === 401) return 'auth';
  const code = problemCode(body);
  if (status === 403) {
    if (code === 'unprovisioned') return 'not_provisioned';
    if (code === 'provisioning') return 'limit';
    return 'auth';
  }
  // Numbers API: 420 "method failed" answers both a refusal and, now and then, a change that was made.
  if (status === 420) return mutates ? 'uncertain' : 'transient';
  if (status === 404) return code === 'missing-number-transfer' ? 'not_owned' : 'invalid';
  if (code === 'transfer-conflict') return 'invalid';
  return 'invalid';
}

function describe(body: unknown, status: number): { message: string; code?: string } {
  const b = (body ?? {}) as Record<string, unknown>;
  const numbersCode = numbersErrorCode(body);
  if (numbersCode !== undefined) {
    const label = typeof b['error-code-label'] === 'string' ? b['error-code-label'] : '';
    return { message: `error-code ${numbersCode}${label ? ` (${label})` : ''}`, code: numbersCode };
  }
  if (typeof b.title === 'string' || typeof b.detail === 'string') {
    const code = problemCode(body);
    return {
      message: [b.title, b.detail].filter((x) => typeof x === 'string').join(': '),
      ...(code ? { code } : {}),
    };
  }
  return { message: `HTTP ${status}` };
}

export class VonageHttp {
  constructor(
    private creds: VonageCredentials,
    private o: HttpOptions,
  ) {}

  get apiKey(): string {
    return this.creds.apiKey;
  }

  /** Sends one request; answers 2xx bodies, throws ProviderError for everything else. */
  async send(c: Call): Promise<HttpAnswer> {
    await this.o.beforeRequest?.();
    const base = c.host === 'rest' ? this.o.restUrl : this.o.apiUrl;
    const url = new URL(c.path, base.endsWith('/') ? base : `${base}/`);
    for (const [k, v] of Object.entries(c.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    let body: string | undefined;
    if (c.auth === 'basic') {
      headers.authorization = `Basic ${Buffer.from(`${this.creds.apiKey}:${this.creds.apiSecret}`).toString('base64')}`;
    } else if (c.method === 'GET') {
      url.searchParams.set('api_key', this.creds.apiKey);
      url.searchParams.set('api_secret', this.creds.apiSecret);
    }
    if (c.form) {
      const f = new URLSearchParams();
      if (c.auth === 'params') {
        f.set('api_key', this.creds.apiKey);
        f.set('api_secret', this.creds.apiSecret);
      }
      for (const [k, v] of Object.entries(c.form)) if (v !== undefined) f.set(k, v);
      body = f.toString();
      headers['content-type'] = 'application/x-www-form-urlencoded';
    } else if (c.json !== undefined) {
      body = JSON.stringify(c.json);
      headers['content-type'] = 'application/json';
    }
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    let res: Response;
    try {
      res = await fetch(url, {
        method: c.method,
        headers,
        body,
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (e) {
      const timedOut = (e as Error).name === 'TimeoutError';
      this.o.observe?.(c.operation, timedOut ? 'timeout' : 'network', seconds());
      // Never the URL in the message: a GET carries the secret in its query.
      throw new ProviderError(
        c.mutates ? 'uncertain' : 'transient',
        timedOut
          ? `${c.operation}: no answer within ${this.o.timeoutMs} ms`
          : `${c.operation}: ${(e as Error).message}`,
        { operation: c.operation },
      );
    }
    let parsed: unknown = null;
    let text = '';
    try {
      text = await res.text();
      parsed = text ? JSON.parse(text) : null;
    } catch (e) {
      if (!text) {
        this.o.observe?.(c.operation, 'network', seconds());
        throw new ProviderError(
          c.mutates ? 'uncertain' : 'transient',
          `${c.operation}: ${(e as Error).message}`,
          {
            operation: c.operation,
          },
        );
      }
      parsed = null; // an HTML error page from a proxy: the status still says what happened
    }
    this.o.observe?.(c.operation, String(res.status), seconds());
    // The Numbers API can answer 200 with an error code in the body.
    const nCode = numbersErrorCode(parsed);
    if (res.ok && (nCode === undefined || nCode === '200')) return { status: res.status, body: parsed };
    const status = res.ok && nCode ? Number(nCode) || 500 : res.status;
    const kind = classify(status, parsed, c.mutates);
    const d = describe(parsed, status);
    const after = retryAfterMs(res.headers.get('retry-after'));
    if (status === 429) await this.o.onThrottled?.(after);
    throw new ProviderError(kind, `${c.operation}: ${d.message}`, {
      status,
      carrierCode: d.code,
      retryAfterMs: after,
      operation: c.operation,
    });
  }
}
