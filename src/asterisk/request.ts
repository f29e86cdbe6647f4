// What the two ARI transports share: the request shape, the one query-string builder, and the one
// reading of an answer (status, body, Asterisk's error message) into a value or an AriError.
import { AriError } from './errors.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** This request's time bound instead of the client's. */
  timeoutMs?: number;
  /**
   * `cleanup`: a hangup or a bridge destroy that frees what a call held. It never waits behind the
   * requests of new calls (the backlog that makes a node shed calls is exactly what it must not
   * queue behind): over the events WebSocket while that is idle, else over HTTP on connections of
   * its own (ari.ts, cleanupOverWebSocket).
   */
  lane?: 'cleanup';
}

/** One REST request, whichever way it travels. */
export type AriRequest = <T>(method: string, path: string, o?: RequestOptions) => Promise<T>;

const enc = encodeURIComponent;

/** `?a=1&b=x` from the defined entries of `q`; '' when there are none. */
export function queryString(q: Query | undefined): string {
  let qs = '';
  for (const [k, v] of Object.entries(q ?? {}))
    if (v !== undefined) qs += `${qs ? '&' : '?'}${enc(k)}=${enc(String(v))}`;
  return qs;
}

/** The answer's body: parsed JSON when it is JSON, else the text as it came. */
export function decodeBody(text: string, json: boolean): unknown {
  if (!text || !json) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Asterisk's error text: `{"message": ...}` for most errors, `{"error": ...}` for an allocation
 * failure, else the body itself or the status line's reason.
 */
export function errorMessage(body: unknown, fallback: string): string {
  if (typeof body === 'object' && body) {
    const b = body as { message?: string; error?: string };
    return b.message ?? b.error ?? fallback;
  }
  return String(body || fallback);
}

/** A 2xx answer's value (undefined when it had no body), or the AriError for any other status. */
export function answer<T>(
  status: number,
  text: string,
  body: unknown,
  reason: string,
  method: string,
  path: string,
): T {
  if (status < 200 || status > 299)
    throw new AriError(status, errorMessage(body, reason), body, method, path);
  return (text ? body : undefined) as T;
}
