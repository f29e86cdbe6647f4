// The caller-ID hot state: the pick (Redis only), keeping Redis in step with PostgreSQL (sync after
// writes, rebuild when Redis lost its state, one instance at a time under a lock), the asynchronous
// usage flush and the promotion sweep. The domain's operations (service.ts) run on top of it.
// Over 400 lines on purpose: one life cycle (rebuild, sync, flush, sweep) sharing its timers,
// single-flight promises and the rebuild lock; split, each part would reach into the others' state.
import type { Sql } from 'postgres';
import { AppError } from '../platform/http/errors.ts';
import type { Db } from '../platform/db.ts';
import { RedisLock } from '../platform/redis/lock.ts';
import type { Logger } from '../platform/logger.ts';
import { BucketClock, calleeFacts } from './decide.ts';
import type { CallerIdRepository, HotNumberRow, PoolConfigRow } from './repository.ts';
import { type CidStore, type PickResult, type PoolHealthConfig, profileFields, type Tier } from './store.ts';

export interface CidServiceOptions {
  sql: Sql;
  /** drizzle over the same client: the API's pool and number operations need it (an import does not). */
  db?: Db;
  store: CidStore;
  log: Logger;
  instanceId: string;
  timezone: string;
  reservationTtlMs: number;
  agentRatePerMin: number;
  flushEveryMs: number;
  /** How often the sweep brings back numbers whose limit window or rest ended (0: only picks do). */
  promoteEveryMs?: number;
  promoteBatch?: number;
  /** Injected clock (tests move it across hour and day boundaries). */
  now?: () => number;
}

export type NextResult =
  | { kind: 'picked'; number: string; expiresAt: number; tier: Tier }
  | { kind: 'fallback'; number: string }
  | { kind: 'exhausted'; nextAt: number | null }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'unknown_pool' };

/** A number as an import wrote it to PostgreSQL. */
export interface ImportedNumber {
  number: string;
  npa: string | null;
  state: string | null;
  hourlyLimit: number | null;
  dailyLimit: number | null;
  active: boolean;
  pool: string | null;
  /** The upsert inserted the row (it was not in PostgreSQL before). */
  inserted: boolean;
}

/**
 * Numbers per sweep call: ~37 µs of Redis each (measured, 200 in 7.5 ms), so a call holds Redis
 * ~4 ms, a stall that picks and routing's slot scripts of that moment wait out.
 */
const SWEEP_CHUNK = 100;
/** The sweep's first pass: numbers a pool, and pools a pipeline (at most ~4 ms of Redis a pipeline). */
const SWEEP_FIRST = 10;
const SWEEP_PIPELINE = 10;

/** The rebuild lock's TTL; its holder extends it every third of that while the rebuild runs. */
const REBUILD_LOCK_TTL_MS = 120_000;

/** Rows a read of the rebuild (PostgreSQL's cursor), placed by a pipeline of rebuildCids calls. */
const REBUILD_READ = 2000;
/** How long a pick for a pool not yet placed waits for it before answering NOT_READY, and how often it looks. */
const NOT_READY_WAIT_MS = 5000;
const POOL_POLL_MS = 100;
/** How long a stop waits for a rebuild it aborted to release the rebuild lock. */
const REBUILD_STOP_WAIT_MS = 2000;

const nxxOf = (number: string) => /^\+1(\d{6})\d{4}$/.exec(number)?.[1] ?? null;

export class CidHotState {
  readonly clock: BucketClock;
  readonly now: () => number;
  private rebuilding: Promise<void> | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<number> | null = null;
  private sweepFailing = false;
  /** Aborted by stop(): a rebuild still running (it runs beside the daemon) stops at its next batch. */
  private closing = new AbortController();
  lastFlushError: string | null = null;

  private rebuildLock: RedisLock;

  constructor(
    readonly o: CidServiceOptions,
    private repo: CallerIdRepository,
  ) {
    this.rebuildLock = new RedisLock(o.store.redis, o.store.keys.rebuildLock, {
      ttlMs: REBUILD_LOCK_TTL_MS,
      onLost: () => o.log.warn('caller-ID rebuild lock lost (Redis did not confirm it): the rebuild stops'),
    });
    this.clock = new BucketClock(o.timezone);
    this.now = o.now ?? Date.now;
  }

  get store(): CidStore {
    return this.o.store;
  }

  buckets(t = this.now()) {
    return this.clock.at(t);
  }

  /**
   * The hot path: no PostgreSQL. `agent` null skips the per-agent limit (calls the daemon handles).
   * While the state is rebuilt, a pool is served as soon as its numbers are placed; a request for
   * a pool not placed yet starts the rebuild (if no instance runs it) and waits for the pool, at
   * most NOT_READY_WAIT_MS, then answers NOT_READY.
   */
  async next(p: { pool: string; to?: string; agent: string | null }): Promise<NextResult> {
    const callee = calleeFacts(p.to);
    const pick = () => {
      const now = this.now();
      return this.pickOrUnavailable({
        pool: p.pool,
        callee,
        agent: p.agent ?? '-',
        now,
        ttlMs: this.o.reservationTtlMs,
        buckets: this.clock.at(now),
        ratePerMin: p.agent === null ? null : this.o.agentRatePerMin,
        promoteBatch: this.o.promoteBatch ?? 32,
      });
    };
    let r = await pick();
    if (r.kind === 'not_ready') {
      let rebuilt = false;
      const rebuild = this.ensureReady().then(
        () => {
          rebuilt = true;
        },
        () => {}, // another instance rebuilds, or Redis refused: the next pick says which
      );
      const end = Date.now() + NOT_READY_WAIT_MS;
      do {
        // The marker of this pool may come from another instance's rebuild: looked for, not awaited.
        await Promise.race([rebuild, new Promise((res) => setTimeout(res, rebuilt ? 0 : POOL_POLL_MS))]);
        r = await pick();
      } while (r.kind === 'not_ready' && Date.now() < end);
    }
    if (r.kind === 'not_ready')
      throw new AppError('NOT_READY', 'caller-ID state is being rebuilt; this pool is not placed yet');
    if (r.kind === 'exhausted') {
      const fb = await this.o.store.poolFallback(p.pool);
      if (fb) return { kind: 'fallback', number: fb };
    }
    return r;
  }

  private async pickOrUnavailable(p: Parameters<CidStore['pick']>[0]): Promise<PickResult> {
    try {
      return await this.o.store.pick(p);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'caller-ID pick failed: Redis did not answer');
      throw new AppError('DEPENDENCY_UNAVAILABLE', 'caller-ID state (Redis) did not answer');
    }
  }

  /** Resolves once Redis holds the hot state; rebuilds it from PostgreSQL (one instance at a time). */
  ensureReady(waitMs = 30_000): Promise<void> {
    this.rebuilding ??= this.rebuildOrWait(waitMs).finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  private async rebuildOrWait(waitMs: number): Promise<void> {
    const end = Date.now() + waitMs;
    for (;;) {
      this.closing.signal.throwIfAborted();
      if (await this.o.store.isReady()) return;
      // One instance rebuilds; a rebuild whose lock is lost stops before it marks the state ready.
      const ran = await this.rebuildLock.run(async (signal, held) => {
        const stop = AbortSignal.any([signal, this.closing.signal]);
        if (!(await this.o.store.isReady())) await this.rebuild(stop, held);
      });
      if (ran) return;
      if (Date.now() > end)
        throw new AppError('NOT_READY', 'caller-ID state is being rebuilt by another instance');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /**
   * Loads every pool and number from PostgreSQL into Redis, pool by pool (the smallest first), and
   * marks each pool served as soon as its numbers are placed; the numbers of no pool last, then the
   * ready marker. A number serving several pools is placed with the first of them, in all its
   * pools' sets, and left as it is by the later ones: picks may have used it since. `signal` (the
   * rebuild lock's) stops it between batches; before each marker, `held` confirms the lock is still
   * ours (a FLUSHALL meanwhile took the lock with the numbers placed so far: no marker may follow).
   */
  async rebuild(signal?: AbortSignal, held?: { extend(): Promise<boolean> }): Promise<number> {
    const started = Date.now();
    const configs = await this.repo.poolConfigs();
    for (const p of configs) await this.o.store.setPoolConfig(p.id, poolConfigOf(p));
    let placed = 0;
    let kept = 0;
    let placeMs = 0;
    const load = async (pool: string | null) => {
      for await (const rows of this.repo.rebuildRows(pool, this.o.reservationTtlMs, REBUILD_READ)) {
        signal?.throwIfAborted();
        const t = Date.now();
        const now = this.now();
        const r = await this.o.store.placeRebuilt(rows, now, this.clock.at(now));
        placeMs += Date.now() - t;
        placed += r.placed;
        kept += r.kept;
      }
      if (held && !(await held.extend())) signal?.throwIfAborted();
      signal?.throwIfAborted();
    };
    const pools = await this.repo.poolsBySize();
    for (const pool of pools) {
      await load(pool);
      await this.o.store.markPoolReady(pool, this.o.instanceId);
    }
    await load(null);
    await this.o.store.markReady(this.o.instanceId);
    this.o.log.info(
      { numbers: placed, kept, pools: pools.length, ms: Date.now() - started, placeMs },
      'caller-ID state rebuilt from PostgreSQL',
    );
    return placed;
  }

  /** A number's profile fields (no usage: Redis keeps the usage it has). */
  private fieldsOfRow(r: HotNumberRow): string[] {
    return profileFields({
      active: r.active,
      npa: r.npa,
      nxx: nxxOf(r.number),
      state: r.state,
      hourlyLimit: r.hourly_limit,
      dailyLimit: r.daily_limit,
      pools: [...r.pools].sort(),
    });
  }

  /** Re-reads numbers from PostgreSQL and places them in Redis (after CRUD changes). */
  sync(numbers: string[]): Promise<void> {
    return this.redisAfterSave(() => this.syncNow(numbers));
  }

  /**
   * Places numbers an import has just written, from the rows it wrote rather than a read back
   * (the read back cost a third of an import). The pools a line names are added to the number's
   * pools in Redis; `active` is what the upsert returned.
   */
  placeImported(rows: ImportedNumber[]): Promise<void> {
    return this.redisAfterSave(async () => {
      if (!rows.length) return;
      // Redis lost the state: the rebuild may have read these rows before they were written, or
      // after (then picks may have used them since): placed once it is done, by the script that
      // merges with what Redis holds.
      const rebuilt = !(await this.o.store.isReady());
      if (rebuilt) await this.ensureReady();
      const now = this.now();
      // Fresh inserts usable at once skip the placement script (see CidStore.placeFresh).
      const fresh = (r: ImportedNumber) =>
        !rebuilt && r.inserted && r.active && r.hourlyLimit !== 0 && r.dailyLimit !== 0;
      await this.o.store.placeFresh(
        rows.filter(fresh).map((r) => ({
          number: r.number,
          profile: {
            active: true,
            npa: r.npa,
            nxx: nxxOf(r.number),
            state: r.state,
            hourlyLimit: r.hourlyLimit,
            dailyLimit: r.dailyLimit,
            pools: r.pool ? [r.pool] : [],
          },
        })),
      );
      const rest = rows.filter((r) => !fresh(r));
      if (!rest.length) return;
      await this.o.store.placeMany(
        rest.map((r) => {
          const f = profileFields({
            active: r.active,
            npa: r.npa,
            nxx: nxxOf(r.number),
            state: r.state,
            hourlyLimit: r.hourlyLimit,
            dailyLimit: r.dailyLimit,
            pools: [],
          });
          // profileFields ends with the pools pair: replaced by an addition.
          f.splice(-2, 2, 'pools+', r.pool ?? '');
          return { number: r.number, fields: f };
        }),
        now,
        this.clock.at(now),
      );
    });
  }

  private async redisAfterSave(write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (err) {
      if (err instanceof AppError) throw err;
      this.o.log.warn({ err: (err as Error).message }, 'caller-ID state not updated in Redis');
      throw new AppError(
        'DEPENDENCY_UNAVAILABLE',
        'saved in PostgreSQL, but the caller-ID state in Redis could not be updated: repeat the request',
      );
    }
  }

  private async syncNow(numbers: string[]): Promise<void> {
    if (!numbers.length) return;
    // A write while the state is rebuilt: placed after the rebuild (which may have read the row
    // before the write), merged with the usage Redis holds by then.
    if (!(await this.o.store.isReady())) await this.ensureReady();
    for (let i = 0; i < numbers.length; i += 2000) {
      const part = numbers.slice(i, i + 2000);
      const rows = await this.repo.hotNumbersOf(part);
      const now = this.now();
      const b = this.clock.at(now);
      await this.o.store.placeMany(
        rows.map((r) => ({ number: r.number, fields: this.fieldsOfRow(r) })),
        now,
        b,
      );
      const found = new Set(rows.map((r) => r.number));
      for (const n of part) if (!found.has(n)) await this.o.store.remove(n, now, b);
    }
  }

  async syncPoolConfig(pool: string): Promise<void> {
    const p = await this.repo.poolConfig(pool);
    // A Redis failure here is a 503 that says the change is saved but not live (was a 500).
    await this.redisAfterSave(() =>
      p ? this.o.store.setPoolConfig(pool, poolConfigOf(p)) : this.o.store.deletePoolConfig(pool),
    );
  }

  /** Writes usage of numbers picked since the last flush to PostgreSQL, in batches. */
  flush(): Promise<void> {
    this.flushing ??= this.flushAll().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async flushAll(): Promise<void> {
    for (;;) {
      // 250 a batch: the script holds Redis for ~1.5 ms (1,000 held it ~8 ms, a stall every pick
      // and every routing slot of that moment would wait out: Redis is shared).
      const { count, json } = await this.o.store.takeDirtyUsage(250, this.now());
      if (!count) return;
      const numbers = () => Object.keys(JSON.parse(json) as Record<string, string[]>);
      try {
        await this.repo.writeUsage(json);
        this.lastFlushError = null;
      } catch (err) {
        // Put them back: the values are absolute, so the next flush writes them whole. If Redis
        // refuses that too, they stay leased and the first flush after the lease takes them again.
        const taken = numbers();
        await this.o.store
          .usageNotWritten(taken)
          .catch((e: unknown) =>
            this.o.log.warn(
              { err: (e as Error).message, numbers: taken.length },
              'caller-ID usage not written; the numbers come back when their lease ends',
            ),
          );
        this.lastFlushError = (err as Error).message;
        this.o.log.warn({ err: (err as Error).message, numbers: count }, 'caller-ID usage flush failed');
        return;
      }
      // Written: the lease ends (one parse of the batch's keys a flush, not a decode per row). Should
      // Redis refuse this, the lease runs out and the numbers are written once more (harmless).
      await this.o.store.usageWritten(numbers()).catch(() => {});
    }
  }

  /**
   * Brings back into the tier sets every number whose limit window or rest has ended, in every
   * pool: a pick does this for a few numbers only (its cost must not grow with the pool), so after
   * an hour boundary that frees a whole pool, picks would choose among the few back already, out of
   * local-presence and LRU order, for as many picks as it takes. Every pool gets a call for
   * SWEEP_FIRST numbers; pools with more due get calls of SWEEP_CHUNK (one holds Redis ~4 ms),
   * at most `maxCalls` a run (10,000 numbers, ~0.4 s of Redis, so picks still
   * get most of it), and the next run goes on. Answers the numbers looked at. Runs one at a time
   * per instance; instances may overlap (each call is atomic).
   */
  sweep(maxCalls = 100): Promise<number> {
    this.sweeping ??= this.sweepOnce(maxCalls).finally(() => {
      this.sweeping = null;
    });
    return this.sweeping;
  }

  private async sweepOnce(maxCalls: number): Promise<number> {
    // The pools from PostgreSQL each run (a small indexed read a second): a pool created a moment
    // ago is swept at the next run. PostgreSQL away: the run fails and the picks still promote.
    const pools = await this.repo.poolIdsPlain();
    const promote = (pools: string[], limit: number) => {
      const now = this.now();
      return this.o.store.promoteDue(pools, now, this.clock.at(now), limit);
    };
    // First every pool, a few numbers each, a few pools a pipeline: Redis runs a pipeline's calls
    // back to back, so a pipeline must stay short even when every pool has numbers due at once.
    let looked = 0;
    const more: string[] = [];
    for (let i = 0; i < pools.length; i += SWEEP_PIPELINE) {
      const group = pools.slice(i, i + SWEEP_PIPELINE);
      for (const [j, r] of (await promote(group, SWEEP_FIRST)).entries()) {
        looked += r.looked;
        if (r.due > 0 && r.looked > 0) more.push(group[j]!);
      }
    }
    // Then the pools with more due, SWEEP_CHUNK a call, within the run's budget.
    let calls = 0;
    for (const pool of more) {
      for (;;) {
        if (calls++ >= maxCalls) return looked;
        const [r] = await promote([pool], SWEEP_CHUNK);
        looked += r!.looked;
        if (r!.due === 0 || r!.looked === 0) break;
      }
    }
    return looked;
  }

  start(): void {
    if (this.o.flushEveryMs > 0 && !this.flushTimer) {
      this.flushTimer = setInterval(() => void this.flush().catch(() => {}), this.o.flushEveryMs);
      this.flushTimer.unref();
    }
    const every = this.o.promoteEveryMs ?? 0;
    if (every > 0 && !this.sweepTimer) {
      this.sweepTimer = setInterval(() => {
        this.sweep().then(
          () => {
            this.sweepFailing = false;
          },
          (err: unknown) => {
            // Once per outage: Redis or PostgreSQL being away is reported by their own checks.
            if (!this.sweepFailing)
              this.o.log.warn({ err: (err as Error).message }, 'caller-ID sweep failed; picks still promote');
            this.sweepFailing = true;
          },
        );
      }, every);
      this.sweepTimer.unref();
    }
  }

  get stopping(): boolean {
    return this.closing.signal.aborted;
  }

  async stop(): Promise<void> {
    this.closing.abort(new Error('the daemon is stopping'));
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await this.sweeping?.catch(() => {});
    // The aborted rebuild releases its lock when it stops (between batches, within milliseconds):
    // waited for, so another instance need not wait out the lock's TTL; bounded, since a read
    // PostgreSQL holds up ends only when the connection closes, after this module.
    if (this.rebuilding) {
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        this.rebuilding.catch(() => {}),
        new Promise((r) => {
          bound = setTimeout(r, REBUILD_STOP_WAIT_MS);
        }),
      ]);
      clearTimeout(bound);
    }
    await this.flush().catch(() => {});
  }
}

export function poolConfigOf(p: PoolConfigRow): PoolHealthConfig {
  return {
    fallback: p.fallback_number,
    window: p.health_window,
    minAnswerRate: p.health_min_answer_rate,
    restS: p.health_rest_s,
  };
}
