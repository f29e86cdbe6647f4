// The caller-ID domain's operations, without HTTP (the routes, the CLI and the outbound Stasis
// handler call them): the pick, pools, numbers, live statistics and the import. PostgreSQL through
// the repository, the Redis hot state through CidHotState (hotstate.ts); each write to PostgreSQL is
// followed by the hot state's sync of what it changed.
import type { Readable } from 'node:stream';
import { mapDbError } from '../platform/pg-errors.ts';
import { AppError, notFound } from '../platform/http/errors.ts';
import { factsOf } from './decide.ts';
import { CidHotState, type CidServiceOptions, type ImportedNumber, type NextResult } from './hotstate.ts';
import { CsvHeaderError, type ImportResult, importCallerIds } from './import.ts';
import {
  CallerIdRepository,
  type NumberRow,
  type NumberSort,
  type NumberValues,
  type PoolFilter,
  type PoolRow,
  type PoolValues,
} from './repository.ts';
import type { NumberPatch, PoolInput } from './schemas.ts';
import { addToPool, emptyPoolStat, numberStat, type PoolStat } from './stats.ts';
import type { CidStore } from './store.ts';

export type { CidServiceOptions, ImportedNumber, NextResult } from './hotstate.ts';
export { poolConfigOf } from './hotstate.ts';

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const poolView = (r: PoolRow, numbers: number) => ({
  id: r.id,
  name: r.name,
  fallback_number: r.fallbackNumber,
  health_window: r.healthWindow,
  health_min_answer_rate: r.healthMinAnswerRate,
  health_rest_s: r.healthRestS,
  numbers,
  created_at: r.createdAt.toISOString(),
});
export type PoolView = ReturnType<typeof poolView>;

export const numberView = (r: NumberRow, poolIds: string[]) => {
  const pools = [...poolIds].sort();
  return {
    number: r.number,
    carrier: r.carrier,
    area_code: r.npa,
    state: r.state,
    hourly_limit: r.hourlyLimit,
    daily_limit: r.dailyLimit,
    active: r.active,
    pools,
    campaigns: pools,
    usage: {
      uses_hour: r.usesHour,
      uses_day: r.usesDay,
      total: r.totalUses,
      last_used_at: iso(r.lastUsedAt),
      answered: r.answered,
      unanswered: r.unanswered,
      rested_until: iso(r.restedUntil),
    },
    created_at: r.createdAt.toISOString(),
  };
};
export type NumberView = ReturnType<typeof numberView>;

const poolValues = (b: PoolInput): PoolValues => ({
  ...(b.name !== undefined ? { name: b.name } : {}),
  ...(b.fallback_number !== undefined ? { fallbackNumber: b.fallback_number } : {}),
  ...(b.health_window !== undefined ? { healthWindow: b.health_window } : {}),
  ...(b.health_min_answer_rate !== undefined ? { healthMinAnswerRate: b.health_min_answer_rate } : {}),
  ...(b.health_rest_s !== undefined ? { healthRestS: b.health_rest_s } : {}),
});

/** A number's profile columns from a request (pure); refuses an area code the number contradicts. */
export function numberValues(number: string, b: Omit<NumberPatch, 'pools' | 'campaigns'>): NumberValues {
  const facts = factsOf(number);
  if (b.area_code && facts.npa && b.area_code !== facts.npa)
    throw new AppError(
      'VALIDATION_FAILED',
      `area_code ${b.area_code} does not match the number's ${facts.npa}`,
    );
  return {
    ...(b.carrier !== undefined ? { carrier: b.carrier } : {}),
    ...(b.area_code !== undefined ? { npa: b.area_code ?? facts.npa } : {}),
    ...(b.state !== undefined ? { state: b.state ?? facts.state } : {}),
    ...(b.hourly_limit !== undefined ? { hourlyLimit: b.hourly_limit } : {}),
    ...(b.daily_limit !== undefined ? { dailyLimit: b.daily_limit } : {}),
    ...(b.active !== undefined ? { active: b.active } : {}),
  };
}

const poolNotFound = (id: string) => notFound('pool', id);

export class CallerIdService {
  readonly repo: CallerIdRepository;
  readonly state: CidHotState;

  constructor(o: CidServiceOptions) {
    this.repo = new CallerIdRepository(o.sql, o.db ?? null);
    this.state = new CidHotState(o, this.repo);
  }

  // ---- the hot state (hotstate.ts) --------------------------------------------------------------
  get store(): CidStore {
    return this.state.store;
  }
  get lastFlushError(): string | null {
    return this.state.lastFlushError;
  }
  now(): number {
    return this.state.now();
  }
  buckets(t = this.now()) {
    return this.state.buckets(t);
  }
  /** The hot path: a number of the pool, from Redis only. */
  next(p: { pool: string; to?: string; agent: string | null }): Promise<NextResult> {
    return this.state.next(p);
  }
  ensureReady(waitMs?: number): Promise<void> {
    return this.state.ensureReady(waitMs);
  }
  rebuild(): Promise<number> {
    return this.state.rebuild();
  }
  sync(numbers: string[]): Promise<void> {
    return this.state.sync(numbers);
  }
  placeImported(rows: ImportedNumber[]): Promise<void> {
    return this.state.placeImported(rows);
  }
  syncPoolConfig(pool: string): Promise<void> {
    return this.state.syncPoolConfig(pool);
  }
  flush(): Promise<void> {
    return this.state.flush();
  }
  sweep(maxCalls?: number): Promise<number> {
    return this.state.sweep(maxCalls);
  }
  start(): void {
    this.state.start();
  }
  stop(): Promise<void> {
    return this.state.stop();
  }

  // ---- pools ------------------------------------------------------------------------------
  /** A page of pools, filtered and ordered in the query (see `repo.listPools`). */
  async listPools(f: PoolFilter) {
    const r = await this.repo.listPools(f);
    return {
      items: r.items.map((p) => poolView(p, p.numbers)),
      limit: f.limit,
      offset: f.offset,
      total: r.total,
    };
  }
  /** Every pool's id, in order (what a form offers to choose from). */
  poolIds(): Promise<string[]> {
    return this.repo.poolIds();
  }
  async getPool(id: string): Promise<PoolView> {
    const r = await this.repo.getPool(id);
    if (!r) throw poolNotFound(id);
    return poolView(r, (await this.repo.memberCounts([r.id])).get(r.id) ?? 0);
  }
  async createPool(b: PoolInput & { id: string }): Promise<PoolView> {
    const r = await this.repo.insertPool(b.id, poolValues(b)).catch((e) => mapDbError(e, 'pool'));
    await this.syncPoolConfig(r.id);
    return poolView(r, 0);
  }
  async updatePool(id: string, b: PoolInput): Promise<PoolView> {
    const r = await this.repo.updatePool(id, poolValues(b));
    if (!r) throw poolNotFound(id);
    await this.syncPoolConfig(r.id);
    return poolView(r, (await this.repo.memberCounts([r.id])).get(r.id) ?? 0);
  }
  async deletePool(id: string): Promise<void> {
    const members = await this.repo.deletePool(id);
    if (!members) throw poolNotFound(id);
    await this.sync(members);
    await this.syncPoolConfig(id);
  }

  // ---- numbers ----------------------------------------------------------------------------
  async listNumbers(pool: string | undefined, limit: number, offset: number) {
    const rows = await this.repo.listNumbers(pool, limit, offset);
    const pools = await this.repo.poolsOf(rows.map((r) => r.number));
    return {
      items: rows.map((r) => numberView(r, pools.get(r.number) ?? [])),
      limit,
      offset,
      total: await this.repo.countNumbers(pool),
    };
  }
  /** A page of numbers in a chosen order, each with its live state from Redis (the console's list). */
  async numbersLive(
    pool: string | undefined,
    p: { sort: NumberSort; dir: 'asc' | 'desc'; limit: number; offset: number },
  ) {
    const rows = await this.repo.listNumbers(pool, p.limit, p.offset, p);
    const numbers = rows.map((r) => r.number);
    const [pools, hs] = await Promise.all([this.repo.poolsOf(numbers), this.store.hashes(numbers)]);
    const now = this.now();
    const b = this.buckets(now);
    return {
      items: rows.map((r) => ({
        ...numberView(r, pools.get(r.number) ?? []),
        live: numberStat(r.number, hs.get(r.number), now, b),
      })),
      total: await this.repo.countNumbers(pool),
    };
  }
  async getNumber(number: string): Promise<NumberView> {
    const r = await this.repo.getNumber(number);
    if (!r) throw notFound('caller ID', number);
    return numberView(r, (await this.repo.poolsOf([number])).get(number) ?? []);
  }
  private async requirePools(ids: string[]): Promise<void> {
    const missing = await this.repo.missingPools(ids);
    if (missing.length) throw new AppError('NOT_FOUND', `pool(s) not found: ${missing.join(', ')}`);
  }
  async createNumber(number: string, b: NumberPatch): Promise<NumberView> {
    const { pools: p, campaigns, ...rest } = b;
    const pools = p ?? campaigns ?? [];
    const facts = factsOf(number);
    await this.requirePools(pools);
    const r = await this.repo
      .insertNumber(number, { npa: facts.npa, state: facts.state, ...numberValues(number, rest) }, pools)
      .catch((e) => mapDbError(e, 'caller ID'));
    await this.sync([number]);
    return numberView(r, pools);
  }
  async updateNumber(number: string, b: NumberPatch): Promise<NumberView> {
    const { pools: p, campaigns, ...rest } = b;
    const pools = p ?? campaigns;
    if (pools) await this.requirePools(pools);
    const r = await this.repo
      .updateNumber(number, numberValues(number, rest), pools)
      .catch((e) => mapDbError(e, 'caller ID'));
    if (!r) throw notFound('caller ID', number);
    await this.sync([number]);
    return numberView(r, (await this.repo.poolsOf([number])).get(number) ?? []);
  }
  /** With `pool` only the membership goes; without, the number itself. */
  async deleteNumber(number: string, pool: string | undefined): Promise<void> {
    const gone = pool ? await this.repo.deleteMembership(number, pool) : await this.repo.deleteNumber(number);
    if (!gone) throw notFound('caller ID', number);
    await this.sync([number]);
  }

  // ---- live statistics --------------------------------------------------------------------------
  /** The live figures of these pools only (each member's hash is read: a page's pools, not all). */
  async poolStats(ids: string[], now = this.now()): Promise<PoolStat[]> {
    const b = this.buckets(now);
    const pools: PoolStat[] = [];
    for (const id of ids) {
      const members = await this.repo.poolMembers(id);
      const s = emptyPoolStat(id, members.length, await this.store.poolSizes(id, now));
      for (let i = 0; i < members.length; i += 2000) {
        const part = members.slice(i, i + 2000);
        const hs = await this.store.hashes(part);
        for (const n of part) addToPool(s, numberStat(n, hs.get(n), now, b));
      }
      pools.push(s);
    }
    return pools;
  }
  /** Per pool (one, or every pool) and per number (a page), from the Redis hot state. */
  async stats(pool: string | undefined, limit: number, offset: number) {
    if (pool && !(await this.repo.getPool(pool))) throw poolNotFound(pool);
    const now = this.now();
    const b = this.buckets(now);
    const pools = await this.poolStats(pool ? [pool] : await this.repo.poolIds(), now);
    const numbers = await this.repo.listNumberIds(pool, limit, offset);
    const hs = await this.store.hashes(numbers);
    return {
      at: new Date(now).toISOString(),
      pools,
      campaigns: pools.map(({ pool: campaign, ...rest }) => ({ campaign, ...rest })),
      numbers: {
        items: numbers.map((n) => numberStat(n, hs.get(n), now, b)),
        limit,
        offset,
        total: await this.repo.countNumbers(pool),
      },
    };
  }

  // ---- the import -------------------------------------------------------------------------
  /** Imports a CSV (see import.ts); a header it cannot use is a validation error. */
  async importCsv(body: Readable, defaultPool: string | null): Promise<ImportResult> {
    try {
      return await importCallerIds(this.state.o.sql, this, body, { defaultPool });
    } catch (e) {
      if (e instanceof CsvHeaderError) throw new AppError('VALIDATION_FAILED', e.message);
      throw e;
    }
  }
}
