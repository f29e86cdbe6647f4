// After Redis lost its data: the hour, day and month counts of calls that had already ended are
// put back from PostgreSQL's CDRs (live calls put back their own slots, effects.ts), so caps by hour,
// day or month do not let those calls through a second time. Once in all: on the instance that set
// the new epoch marker. Stopped with the routing module: the looks-again a loss scheduled are
// cancelled and a run in progress is waited for, so nothing touches PostgreSQL once it is closed.
import { Counter, type Registry } from 'prom-client';
import type { CdrWriter } from '../cdr/writer.ts';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { capBuckets } from './decide.ts';
import { recoverLostAnswers, usesThisPeriod } from './repository.ts';
import type { DataLoss, SlotStore } from './slots.ts';

export function restoreUsesOnDataLoss(d: {
  db: Db;
  slots: SlotStore;
  cdr: CdrWriter;
  log: Logger;
  metrics: Registry;
  defaultTimezone: string;
}): { stop(): Promise<void> } {
  const rebuilds = new Counter({
    name: 'capconduit_cap_usage_rebuilds_total',
    help: 'Hour/day/month cap counts of ended calls put back from the CDRs after Redis lost its data, by result',
    labelNames: ['result'],
    registers: [d.metrics],
  });
  let stopped = false;
  const again = new Set<NodeJS.Timeout>();
  /** Runs in progress (the handler's own, and looks-again), waited for by stop. */
  const running = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    running.add(p);
    void p.finally(() => running.delete(p));
    return p;
  };
  d.slots.onDataLost(async (loss: DataLoss) => {
    if (!loss.marked || stopped) return;
    await track(restore(loss));
  });

  async function restore(loss: DataLoss): Promise<void> {
    const at = new Date(loss.at);
    try {
      // The calls that ended just before are in the writer's buffer: PostgreSQL gets them first.
      await d.cdr.flush().catch(() => {});
      const owners = await usesThisPeriod(d.db, {
        now: at,
        endedBefore: at,
        defaultTimezone: d.defaultTimezone,
      });
      await d.slots.addUses(owners.map((o) => ({ ...o, buckets: capBuckets(o.tz, at) })));
      rebuilds.inc({ result: 'done' });
      d.log.warn(
        { owners: owners.length, uses: owners.reduce((n, o) => n + o.monthly, 0) },
        'hour, day and month cap counts of ended calls put back from the CDRs',
      );
    } catch (err) {
      // Routing goes on (takes wait for this): those caps count only the calls from now on.
      rebuilds.inc({ result: 'failed' });
      d.log.error(
        { err: (err as Error).message },
        'hour, day and month cap counts not put back from the CDRs; those caps count only calls from now on',
      );
    }
    await recoverTotals(d);
    // Calls that end after this (some ended while the live calls were being put back, their answer
    // lost and too late for that), and CDRs that reach PostgreSQL late (another instance's writer
    // flushes on its own timer): looked for again. Each answer is counted once however often this
    // runs, an answer counted since the loss included (repository recoverLostAnswers).
    for (const ms of TOTALS_RECOVERY_AGAIN_MS) {
      if (stopped) return;
      const t = setTimeout(() => {
        again.delete(t);
        void track(recoverTotals(d));
      }, ms);
      t.unref();
      again.add(t);
    }
  }

  return {
    async stop() {
      stopped = true;
      for (const t of again) clearTimeout(t);
      again.clear();
      await Promise.all(running);
    },
  };
}

/** When, after a loss, the answered totals are looked for again in the CDRs (ms after it was found). */
const TOTALS_RECOVERY_AGAIN_MS = [15_000, 60_000];

/**
 * The answered totals the loss took before they reached PostgreSQL, found again in the CDRs written
 * so far (repository recoverLostAnswers). A failure is logged: those answers stay uncounted.
 */
async function recoverTotals(d: { db: Db; log: Logger }): Promise<void> {
  try {
    const uses = await recoverLostAnswers(d.db, { endedBefore: new Date() });
    if (uses) d.log.warn({ uses }, 'answered totals lost with Redis put back from the CDRs');
  } catch (err) {
    d.log.error(
      { err: (err as Error).message },
      'answered totals lost with Redis not put back from the CDRs; they stay uncounted',
    );
  }
}
