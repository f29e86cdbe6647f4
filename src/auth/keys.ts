import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, desc, eq, isNull, type SQL } from 'drizzle-orm';
import { countWhere, type Db, type ListSort, orderOf } from '../platform/db.ts';
import { type ApiRole, apiKeys } from '../db/schema/auth.ts';
import { sellers } from '../db/schema/routing.ts';
import { AppError } from '../platform/http/errors.ts';

export interface KeyPrincipal {
  keyId: string;
  role: ApiRole;
  sellerId: string | null;
  allowIps: string[];
  /** Requests a minute (null: the role's default; 0: no limit). */
  rateLimitPerMin: number | null;
}

// Key format: cc_<8 char prefix>_<43 char secret>. The prefix is not secret; the whole key is hashed.
export function generateApiKey(): { key: string; prefix: string; hash: string } {
  const prefix = randomBytes(6).toString('base64url').slice(0, 8);
  const key = `cc_${prefix}_${randomBytes(32).toString('base64url')}`;
  return { key, prefix, hash: hashApiKey(key) };
}

/** True when `key` has the shape generateApiKey gives; says nothing about whether it exists. */
export const looksLikeApiKey = (key: string): boolean => /^cc_[\w-]{8}_[\w-]{43}$/.test(key);

// SHA-256 is enough here: keys carry 256 bits of entropy, so there is nothing to brute-force.
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function keysEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export async function createApiKey(
  db: Db,
  input: {
    role: ApiRole;
    sellerId?: string | null;
    allowIps?: string[];
    label?: string | null;
    rateLimitPerMin?: number | null;
  },
): Promise<{ id: string; key: string; prefix: string }> {
  if (input.role === 'seller' && !input.sellerId) throw new Error('a seller key needs --seller <id>');
  if (input.role !== 'seller' && input.sellerId) throw new Error('only seller keys are bound to a seller');
  const g = generateApiKey();
  const sellerId = input.sellerId ?? null;
  const row = await db.transaction(async (tx) => {
    if (sellerId) {
      // The seller's row is held while the key is written: an archive (which revokes the seller's
      // keys) running at the same time either comes first and is seen here, or waits and revokes this
      // key too. A missing seller is the insert's foreign-key error, as before.
      const [s] = await tx
        .select({ archivedAt: sellers.archivedAt })
        .from(sellers)
        .where(eq(sellers.id, sellerId))
        .for('share');
      if (s?.archivedAt)
        throw new AppError('SELLER_ARCHIVED', `seller ${sellerId} is archived: restore it first`);
    }
    const [r] = await tx
      .insert(apiKeys)
      .values({
        prefix: g.prefix,
        hash: g.hash,
        role: input.role,
        sellerId,
        allowIps: input.allowIps ?? [],
        label: input.label ?? null,
        rateLimitPerMin: input.rateLimitPerMin ?? null,
      })
      .returning({ id: apiKeys.id });
    return r!;
  });
  return { id: row.id, key: g.key, prefix: g.prefix };
}

/**
 * Looks keys up by hash with a small in-process cache, so the caller-ID hot path does not pay a
 * PostgreSQL round trip per request. A revoked key stops working within `ttlMs`.
 */
export class KeyStore {
  private cache = new Map<string, { p: KeyPrincipal | null; at: number }>();
  private hashes = new Map<string, string>();
  constructor(
    private db: Db,
    private ttlMs = 30_000,
    private maxEntries = 10_000,
  ) {}

  async lookup(key: string): Promise<KeyPrincipal | null> {
    // A dialer presents the same key thousands of times a second: its hash is remembered (bounded
    // like the cache, cleared with it) instead of computed again each time.
    let hash = this.hashes.get(key);
    if (hash === undefined) {
      if (this.hashes.size >= this.maxEntries) this.hashes.clear();
      hash = hashApiKey(key);
      this.hashes.set(key, hash);
    }
    const hit = this.cache.get(hash);
    const now = Date.now();
    if (hit && now - hit.at < this.ttlMs) return hit.p;
    // One read per key at a time: when a busy dialer key's entry expires, its requests in flight
    // share the read instead of each sending PostgreSQL the same query.
    let p = this.reading.get(hash);
    if (!p) {
      p = this.read(hash, now).finally(() => this.reading.delete(hash));
      this.reading.set(hash, p);
    }
    return p;
  }

  /** Reads in flight, by key hash. */
  private reading = new Map<string, Promise<KeyPrincipal | null>>();
  /** Bumped by `invalidate`: a read that started before it must not cache what it saw. */
  private generation = 0;
  /** PostgreSQL reads made so far (cache misses that were not shared). */
  reads = 0;

  private async read(hash: string, now: number): Promise<KeyPrincipal | null> {
    this.reads++;
    const gen = this.generation;
    const [row] = await this.db.select().from(apiKeys).where(eq(apiKeys.hash, hash)).limit(1);
    const p: KeyPrincipal | null =
      row && !row.revokedAt && keysEqual(row.hash, hash)
        ? {
            keyId: row.id,
            role: row.role,
            sellerId: row.sellerId,
            allowIps: row.allowIps,
            rateLimitPerMin: row.rateLimitPerMin,
          }
        : null;
    if (gen !== this.generation) return p;
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(hash, { p, at: now });
    return p;
  }

  invalidate(): void {
    this.generation++;
    this.reading.clear();
    this.cache.clear();
    this.hashes.clear();
  }
}

/** Every API key, newest first (without revoked ones unless asked): for `capconduit keys list`. */
/** The orders the console's list of keys can be read in (its column headers). */
export const API_KEY_SORTS = {
  created: apiKeys.createdAt,
  role: apiKeys.role,
  label: apiKeys.label,
  last_used: apiKeys.lastUsedAt,
  prefix: apiKeys.prefix,
};

const keyColumns = {
  id: apiKeys.id,
  prefix: apiKeys.prefix,
  role: apiKeys.role,
  sellerId: apiKeys.sellerId,
  allowIps: apiKeys.allowIps,
  label: apiKeys.label,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

/**
 * One page of keys without their hashes, in an allow-listed order (the id breaks ties; newest first
 * by default), filtered by role and seller, revoked ones on request; with the total.
 */
export async function pageApiKeys(
  db: Db,
  o: {
    includeRevoked?: boolean;
    role?: ApiRole | undefined;
    sellerId?: string | undefined;
    order?: ListSort | undefined;
    limit: number;
    offset: number;
  },
) {
  const w: SQL[] = [];
  if (!o.includeRevoked) w.push(isNull(apiKeys.revokedAt));
  if (o.role) w.push(eq(apiKeys.role, o.role));
  if (o.sellerId) w.push(eq(apiKeys.sellerId, o.sellerId));
  const where = w.length ? and(...w) : undefined;
  const items = await db
    .select(keyColumns)
    .from(apiKeys)
    .where(where)
    .orderBy(...orderOf(API_KEY_SORTS, apiKeys.id, o.order, [desc(apiKeys.createdAt), desc(apiKeys.id)]))
    .limit(o.limit)
    .offset(o.offset);
  return { items, total: await countWhere(db, apiKeys, where) };
}

export async function listApiKeys(db: Db, o: { includeRevoked?: boolean } = {}) {
  return db
    .select(keyColumns)
    .from(apiKeys)
    .where(o.includeRevoked ? undefined : isNull(apiKeys.revokedAt))
    .orderBy(desc(apiKeys.createdAt));
}

/**
 * Revokes the key with this id, or the one key whose public prefix this is. Answers what was
 * revoked, `already` for a key revoked before, or null when nothing matches (a prefix shared by
 * several keys matches none: name the id then).
 */
export async function revokeApiKey(
  db: Db,
  idOrPrefix: string,
): Promise<{ id: string; prefix: string; already: boolean } | null> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrPrefix);
  const found = await db
    .select({ id: apiKeys.id, prefix: apiKeys.prefix, revokedAt: apiKeys.revokedAt })
    .from(apiKeys)
    .where(isId ? eq(apiKeys.id, idOrPrefix) : eq(apiKeys.prefix, idOrPrefix));
  if (found.length !== 1) return null;
  const k = found[0]!;
  if (k.revokedAt) return { id: k.id, prefix: k.prefix, already: true };
  await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, k.id), isNull(apiKeys.revokedAt)));
  return { id: k.id, prefix: k.prefix, already: false };
}

// What /v1/api-keys reads and changes, as whole rows (the answer shows each key as stored).
type KeyRow = typeof apiKeys.$inferSelect;

/** Every key, revoked ones included, newest first. */
export const apiKeyRows = (db: Db): Promise<KeyRow[]> =>
  db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt));

export async function apiKeyRow(db: Db, id: string): Promise<KeyRow | null> {
  const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, id));
  return row ?? null;
}

/** Sets a key's request limit; null when no key of this id is live (absent or revoked). */
export async function setKeyRateLimit(db: Db, id: string, perMin: number | null): Promise<KeyRow | null> {
  const [row] = await db
    .update(apiKeys)
    .set({ rateLimitPerMin: perMin })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row ?? null;
}

/** Revokes the live key of this id; null when there is none (absent or already revoked). */
export async function revokeKeyRow(db: Db, id: string): Promise<KeyRow | null> {
  const [row] = await db
    .update(apiKeys)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiKeys.id, id), isNull(apiKeys.revokedAt)))
    .returning();
  return row ?? null;
}
