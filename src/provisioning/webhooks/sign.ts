// Webhook signatures (pure): HMAC-SHA256 over `<unix seconds>.<body>` with the subscription's secret,
// sent as `CapConduit-Signature: t=<unix seconds>,v1=<hex>`. The timestamp inside the signed text lets
// a receiver refuse replays older than its tolerance.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'capconduit-signature';

export function sign(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** True when `header` signs `body` with `secret` and its timestamp is within `toleranceS` of `now`. */
export function verify(
  secret: string,
  header: string,
  body: string,
  toleranceS = 300,
  now = Date.now() / 1000,
): boolean {
  const parts = Object.fromEntries(header.split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || !parts.v1 || Math.abs(now - t) > toleranceS) return false;
  const want = Buffer.from(createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
  const got = Buffer.from(parts.v1);
  return got.length === want.length && timingSafeEqual(got, want);
}
