// Answered-call totals: `campaign_links.total_answered` and the sellers', DIDs' and buyer groups'
// `routing_cap_totals`, the durable copy of Redis' total counters (which the caps are decided on, and
// which are seeded from PostgreSQL when Redis has none).
//
// No count ever waits in this process' memory, so a kill -9 loses none. Marking a slot answered adds
// the use to a Redis hash of totals waiting for PostgreSQL in the same script (answerSlot-2.lua).
// Every interval one instance's flush turns that hash into a batch with its own id (takeTotals-3.lua,
// a RENAME: new uses start a new hash) and applies it in one PostgreSQL transaction that also records
// the batch id (`routing_total_batches`); only then is the batch deleted from Redis. A batch applied
// whose deletion was lost (a crash, Redis unreachable at that moment) is met again by the next flush,
// of this instance or any other, and PostgreSQL's id answers that it was applied: it is deleted
// without being counted twice. While PostgreSQL is down, batches wait in Redis. Both kill -9 cases (a
// batch whose transaction died with the process, a batch applied whose deletion did) are tested in
// routing-totals-kill.test.ts: each link's total equals its answered CDRs after the restart.
//
// A Redis that loses its data loses the uses waiting in it (at most one interval's, or everything
// since PostgreSQL went down). Each batch therefore lists the slots whose answers it holds, and
// PostgreSQL keeps them (`routing_counted_answers`) with the batch's cut-off: after a loss, the
// answers of ended calls are found again in the CDRs (answered attempts whose slot PostgreSQL has
// not counted, repository/totals.ts recoverLostAnswers) and those of live calls by their instance
// (effects/restore.ts), each counted once whichever instance or loss comes first.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';
import { applyTotalsBatch, markTotalsStart, pruneTotalBatches } from './repository.ts';

/**
 * A batch's fields (pure): `<kind>:<id>` -> n as links' totals and the other owners', `slot:<id>`
 * the slots whose answers it holds (-> the `<kind>:<id>` each was counted in, `;`-separated), `at`
 * its cut-off (Redis' time when it was made, ms).
 */
export function splitTotals(batch: Record<string, string>): {
  links: Map<string, number>;
  owners: Map<string, number>;
  slots: Map<string, string[]>;
  cutOff: number | null;
} {
  const links = new Map<string, number>();
  const owners = new Map<string, number>();
  const slots = new Map<string, string[]>();
  let cutOff: number | null = null;
  for (const [k, v] of Object.entries(batch)) {
    if (k === 'at') {
      cutOff = Number(v) || null;
      continue;
    }
    if (k.startsWith('slot:')) {
      slots.set(k.slice(5), v.split(';').filter(Boolean));
      continue;
    }
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) continue;
    if (k.startsWith('link:')) links.set(k.slice(5), n);
    else owners.set(k, n);
  }
  return { links, owners, slots, cutOff };
}

export class AnsweredTotals {
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private failing: string | null = null;
  private flushes = 0;

  constructor(
    private db: Db,
    private redis: Redis,
    private keys: RoutingKeys,
    private log: Logger,
    private everyMs = 500,
  ) {}

  start(): void {
    // From now on this daemon's answers carry their slot ids to PostgreSQL: what a recovery after a
    // data loss may rely on reaches back to here, not to the answers of an older daemon.
    void markTotalsStart(this.db).catch((err: unknown) =>
      this.log.warn({ err: (err as Error).message }, 'answered totals: start not recorded'),
    );
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  /** Moves what waits in Redis to PostgreSQL; never rejects (a failure waits for the next flush). */
  flush(): Promise<void> {
    this.flushing ??= this.moveBatches()
      .then(
        () => {
          if (this.failing) this.log.info('answered totals reach PostgreSQL again');
          this.failing = null;
        },
        (err: unknown) => {
          const msg = (err as Error).message;
          // Once per outage, not every half second.
          if (this.failing !== msg)
            this.log.warn({ err: msg }, 'answered totals wait in Redis until they can be written');
          this.failing = msg;
        },
      )
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private async moveBatches(): Promise<void> {
    const id = randomUUID();
    await this.redis.takeTotals(
      this.keys.totalsPending,
      this.keys.totalsBatch(id),
      this.keys.totalsBatches,
      id,
    );
    // This batch, and any left by a flush that did not finish (here or on another instance).
    for (const b of await this.redis.smembers(this.keys.totalsBatches)) {
      const key = this.keys.totalsBatch(b);
      const { links, owners, slots, cutOff } = splitTotals(await this.redis.hgetall(key));
      if (links.size || owners.size) await applyTotalsBatch(this.db, b, links, owners, { slots, cutOff });
      await this.redis.multi().del(key).srem(this.keys.totalsBatches, b).exec();
    }
    if (++this.flushes % 1000 === 0) await pruneTotalBatches(this.db);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
