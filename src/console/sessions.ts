// Console sessions in Redis, shared by every daemon instance. The browser holds a random token;
// Redis holds only its SHA-256 (a copy of Redis gives no usable cookie). A session dies after
// `idleMs` without a request and `maxMs` after sign-in, whichever comes first; each user's sessions
// are indexed so they can be listed and signed out everywhere.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../platform/redis/keys.ts';

export interface Session {
  /** SHA-256 of the token, hex: the session's id in lists and in Redis. */
  id: string;
  userId: string;
  createdAt: number;
  seenAt: number;
  /** The CSRF token every change must carry. */
  csrf: string;
  ip: string;
  userAgent: string;
}

/** Seen-at is written at most this often (a page with live updates must not write on every event). */
const TOUCH_EVERY_MS = 15_000;

const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');

export class SessionStore {
  constructor(
    private redis: Redis,
    private keys: RedisKeys,
    readonly idleMs: number,
    readonly maxMs: number,
    /**
     * Where the ids of ended sessions are published (sign-out, sign-out everywhere, an admin ending
     * them): each instance's live floor ends their open streams at once (live.ts), rather than at
     * its next session check.
     */
    readonly endedChannel: string | null = null,
  ) {}

  private key(id: string) {
    return this.keys.plain('console', 'sess', id);
  }
  private userKey(userId: string) {
    return this.keys.plain('console', 'user-sess', userId);
  }

  async create(userId: string, meta: { ip: string; userAgent: string }, now = Date.now()) {
    const token = randomBytes(32).toString('base64url');
    const s: Session = {
      id: hashToken(token),
      userId,
      createdAt: now,
      seenAt: now,
      csrf: randomBytes(32).toString('base64url'),
      ip: meta.ip,
      userAgent: meta.userAgent.slice(0, 300),
    };
    await this.redis
      .multi()
      .hset(this.key(s.id), { ...s, createdAt: String(now), seenAt: String(now) })
      .pexpire(this.key(s.id), Math.min(this.idleMs, this.maxMs))
      .zadd(this.userKey(userId), now, s.id)
      .pexpire(this.userKey(userId), this.maxMs)
      .exec();
    return { token, session: s };
  }

  /** The live session of a token, touched; null when unknown, idle too long or too old. */
  async get(token: string, now = Date.now()): Promise<Session | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const s = await this.read(hashToken(token));
    if (!s) return null;
    if (now - s.seenAt >= this.idleMs || now - s.createdAt >= this.maxMs) {
      await this.destroy(s.id, s.userId);
      return null;
    }
    if (now - s.seenAt >= TOUCH_EVERY_MS) {
      s.seenAt = now;
      await this.redis
        .multi()
        .hset(this.key(s.id), 'seenAt', String(now))
        .pexpire(this.key(s.id), Math.min(this.idleMs, s.createdAt + this.maxMs - now))
        .exec();
    }
    return s;
  }

  private async read(id: string): Promise<Session | null> {
    const h = await this.redis.hgetall(this.key(id));
    if (!h.userId) return null;
    return {
      id,
      userId: h.userId,
      createdAt: Number(h.createdAt),
      seenAt: Number(h.seenAt),
      csrf: h.csrf ?? '',
      ip: h.ip ?? '',
      userAgent: h.userAgent ?? '',
    };
  }

  /** The user's live sessions, newest first (dead ones are dropped from the index on the way). */
  async list(userId: string, now = Date.now()): Promise<Session[]> {
    const ids = await this.redis.zrevrange(this.userKey(userId), '0', '-1');
    const out: Session[] = [];
    const dead: string[] = [];
    for (const id of ids) {
      const s = await this.read(id);
      if (s && now - s.seenAt < this.idleMs && now - s.createdAt < this.maxMs) out.push(s);
      else dead.push(id);
    }
    if (dead.length) await this.redis.zrem(this.userKey(userId), ...dead);
    return out;
  }

  async destroy(id: string, userId: string): Promise<void> {
    const m = this.redis.multi().del(this.key(id)).zrem(this.userKey(userId), id);
    if (this.endedChannel) m.publish(this.endedChannel, JSON.stringify([id]));
    await m.exec();
  }

  /** Signs the user out everywhere (but the session `keep`, when given). Returns how many ended. */
  async destroyAll(userId: string, keep?: string): Promise<number> {
    const ids = (await this.redis.zrange(this.userKey(userId), '0', '-1')).filter((id) => id !== keep);
    if (!ids.length) return 0;
    const m = this.redis
      .multi()
      .del(...ids.map((id) => this.key(id)))
      .zrem(this.userKey(userId), ...ids);
    if (this.endedChannel) m.publish(this.endedChannel, JSON.stringify(ids));
    await m.exec();
    return ids.length;
  }
}

/** Constant-time comparison of a presented CSRF token with the session's. */
export function csrfMatches(presented: unknown, expected: string): boolean {
  if (typeof presented !== 'string' || !expected) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
