// API key authentication: which key, from which address, with which role, before any body is read.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { ipAllowed } from '../../auth/cidr.ts';
import { type KeyPrincipal, looksLikeApiKey } from '../../auth/keys.ts';
import { RedisKeys } from '../redis/keys.ts';
import { AppError } from './errors.ts';
import { KeyRateLimiter } from './key-rate.ts';

/**
 * Per-IP counter of failed authentications in fixed one-minute windows. In process on purpose:
 * it protects this instance's key lookups and keeps working when Redis is down.
 */
export class FailureLimiter {
  private windows = new Map<string, { start: number; n: number }>();
  constructor(
    private limit: number,
    private windowMs = 60_000,
    private maxTracked = 50_000,
  ) {}
  blockedFor(ip: string, now = Date.now()): number {
    const w = this.windows.get(ip);
    if (!w || now - w.start >= this.windowMs) return 0;
    return w.n >= this.limit ? Math.ceil((w.start + this.windowMs - now) / 1000) : 0;
  }
  fail(ip: string, now = Date.now()): void {
    const w = this.windows.get(ip);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size >= this.maxTracked) this.windows.clear();
      this.windows.set(ip, { start: now, n: 1 });
    } else w.n++;
  }
}

function presentedKey(req: FastifyRequest, allowQuery: boolean): string | null {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim() || null;
  const x = req.headers['x-api-key'];
  if (typeof x === 'string' && x) return x.trim();
  if (allowQuery) {
    const q = (req.query as Record<string, unknown> | undefined)?.key;
    if (typeof q === 'string' && q) return q;
  }
  return null;
}

export default fp(
  async function auth(app: FastifyInstance) {
    const cfg = app.deps.config;
    const limiter = new FailureLimiter(cfg.AUTH_FAIL_LIMIT_PER_MIN);
    const redisKeys = new RedisKeys(cfg.REDIS_KEY_PREFIX);
    const rates = new KeyRateLimiter(
      app.deps.redis,
      (keyId, window) => redisKeys.apiKeyRate(keyId, window),
      app.deps.log,
    );
    app.addHook('onClose', async () => rates.stop());
    app.decorateRequest('principal', null);
    app.addHook('onRequest', async (req) => {
      const auth = req.routeOptions.config.auth;
      if (!auth) return;
      const ip = req.ip;
      // The limiter counts failures and answers them 429 once an IP has had too many; a valid key
      // from that IP still works (one misconfigured agent behind a call centre's NAT must not stop
      // every other agent). Junk that cannot be a key is refused without a lookup while limited.
      const wait = limiter.blockedFor(ip);
      const refuse = (code: 'UNAUTHENTICATED' | 'FORBIDDEN_IP', message: string): never => {
        limiter.fail(ip);
        if (wait > 0)
          throw new AppError('AUTH_RATE_LIMITED', 'too many failed authentication attempts', undefined, {
            'retry-after': String(wait),
          });
        throw new AppError(code, message);
      };
      const key = presentedKey(req, auth.queryKey === true);
      if (!key)
        return refuse('UNAUTHENTICATED', 'missing API key (Authorization: Bearer <key> or X-API-Key)');
      if (wait > 0 && !looksLikeApiKey(key)) return refuse('UNAUTHENTICATED', 'unknown or revoked API key');
      let p: KeyPrincipal | null;
      try {
        p = await app.deps.keys.lookup(key);
      } catch (err) {
        req.log.error({ err }, 'API key lookup failed');
        throw new AppError('DEPENDENCY_UNAVAILABLE', 'cannot verify API keys right now');
      }
      if (!p) return refuse('UNAUTHENTICATED', 'unknown or revoked API key');
      if (!ipAllowed(ip, p.allowIps)) return refuse('FORBIDDEN_IP', `this key may not be used from ${ip}`);
      if (!auth.roles.includes(p.role))
        throw new AppError('FORBIDDEN_ROLE', `role ${p.role} may not use this endpoint`);
      // Counted after the role check: a request the key may not make at all costs it nothing.
      const limit =
        p.rateLimitPerMin ??
        (p.role === 'dialer' ? cfg.API_RATE_LIMIT_DIALER_PER_MIN : cfg.API_RATE_LIMIT_PER_MIN);
      const rate = rates.take(p.keyId, limit);
      if (!rate.ok)
        throw new AppError(
          'KEY_RATE_LIMITED',
          `this API key may make ${limit} requests a minute; try again in ${rate.retryAfterS} s`,
          undefined,
          { 'retry-after': String(rate.retryAfterS) },
        );
      req.principal = p;
      req.actor = { type: 'api_key', id: p.keyId, label: null };
    });
  },
  { name: 'auth' },
);

export const STAFF = ['admin', 'staff'] as const;
export const STAFF_OR_SELLER = ['admin', 'staff', 'seller'] as const;

/**
 * The seller a seller key is bound to (seller keys see only their seller's rows); null for
 * staff/admin, who see every seller. A seller key without a seller sees nothing (a nil id).
 */
export function scopeOf(req: FastifyRequest): string | null {
  return req.principal?.role === 'seller'
    ? (req.principal.sellerId ?? '00000000-0000-0000-0000-000000000000')
    : null;
}
