// TOTP second factor (RFC 6238 through the otpauth library) and the sealing of its secret at rest.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Secret, TOTP } from 'otpauth';
import type { RedisKeys } from '../platform/redis/keys.ts';
import { decodeDone } from '../platform/redis/codes.ts';
import { corked, registerScripts } from '../platform/redis/scripts.ts';

const PERIOD_S = 30;

export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

export function totpFor(secretBase32: string, email: string): TOTP {
  return new TOTP({
    issuer: 'CapConduit',
    label: email,
    algorithm: 'SHA1',
    digits: 6,
    period: PERIOD_S,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** The time step a code matches (one step of clock drift either way), or null. */
export function matchingStep(secretBase32: string, code: string, now = Date.now()): number | null {
  if (!/^\d{6}$/.test(code)) return null;
  const delta = totpFor(secretBase32, '').validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? null : Math.floor(now / 1000 / PERIOD_S) + delta;
}

/** Accepts each time step of a user once, so a code read over a shoulder cannot be used again. */
export class TotpReplayGuard {
  constructor(
    private redis: Redis,
    private keys: RedisKeys,
  ) {
    registerScripts(redis);
  }
  async take(userId: string, step: number): Promise<boolean> {
    const key = this.keys.plain('console', 'totp-step', userId);
    return decodeDone('takeTotpStep', await corked(this.redis).takeTotpStep(key, step, 5 * PERIOD_S * 1000));
  }
}

// AES-256-GCM under MASTER_KEY: `v1.<iv>.<tag>.<ciphertext>`, base64url parts.
export function seal(masterKey: Buffer, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', masterKey, iv);
  const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return ['v1', iv, c.getAuthTag(), ct]
    .map((x) => (typeof x === 'string' ? x : x.toString('base64url')))
    .join('.');
}

export function unseal(masterKey: Buffer, sealed: string): string {
  const [v, iv, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !iv || !tag || ct === undefined) throw new Error('sealed value: unknown format');
  const d = createDecipheriv('aes-256-gcm', masterKey, Buffer.from(iv, 'base64url'));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
}
