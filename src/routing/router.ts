// The inbound router: the Stasis handlers, the call runner and the reconciler wired together.
// A call, StasisStart to CDR: stasis.ts (event -> CallEvent) -> call.ts (pure step) -> effects.ts
// (ARI requests, slot scripts) -> cdr/record.ts (the record) -> cdr/writer.ts (journal, PostgreSQL).
import type { Registry } from 'prom-client';
import type { AriChannel } from '../asterisk/types.ts';
import type { HoldQueue } from './queue.ts';
import { Admission } from './admission.ts';
import { CallRunner, type EffectDeps } from './effects.ts';
import { RoutingMetrics } from './metrics.ts';
import { Reconciler } from './reconcile.ts';
import { attachStasisHandlers } from './stasis.ts';
import { UnseenCalls, type UnseenDeps } from './unseen.ts';

export { CALL_ID_VAR } from './effects.ts';
export { didOf } from './stasis.ts';

/**
 * What the router is built from: what the call runner needs (EffectDeps, one declaration), except
 * that the router makes the metrics (from the registry), the admission (from `loop`) and the clock.
 */
export interface RouterDeps extends Omit<EffectDeps, 'metrics' | 'admission' | 'now'> {
  metrics: Registry;
  /** Periodic reconcile of slots against each node's live channels (ms); 0 disables. */
  reconcileEveryMs?: number;
  /** This process's own load: while it is behind, new calls are shed (none: only Asterisk's load counts). */
  loop?: { readonly behind: boolean; readonly delayMs: number } | null;
  /** Where each node's Asterisk writes its CDRs, read back for the callers nobody saw (unseen.ts). */
  unseen?: Pick<UnseenDeps, 'db' | 'tables' | 'graceMs'>;
  now?: () => number;
}

export interface LiveCall {
  call_id: string;
  node_id: string;
  did: string;
  caller: string;
  phase: string;
  started_at: string;
  client_id: string | null;
  seller_id: string | null;
}

export class InboundRouter {
  private runner: CallRunner;
  private reconciler: Reconciler;
  private handlers: { deafen(): void };
  /** The hold queues (tests stop its wake-ups to see the safety poll serve). */
  readonly queue: HoldQueue;

  constructor(d: RouterDeps) {
    this.queue = d.queue;
    const now = d.now ?? Date.now;
    const calls = () => this.runner.calls.values();
    const metrics = new RoutingMetrics(d.metrics, calls, () => this.runner.calls.size);
    const loop = d.loop ?? null;
    if (loop) metrics.loop = () => ({ delayMs: loop.delayMs, behind: loop.behind });
    const admission = new Admission(d.asterisk, loop, metrics.shed);
    this.runner = new CallRunner({ ...d, metrics, admission, now });
    this.reconciler = new Reconciler(
      d.asterisk,
      this.runner,
      d.slots,
      d.store,
      d.catalog,
      metrics,
      d.log,
      now,
      d.unseen
        ? new UnseenCalls({
            ...d.unseen,
            cdr: d.cdr,
            catalog: d.catalog,
            apps: d.asterisk.apps,
            metrics,
            log: d.log,
            now,
          })
        : null,
    );
    this.handlers = attachStasisHandlers(d.asterisk, this.runner, d.log, now);
    // A cap changed while callers wait: they are judged again at once, not at their next poll.
    d.catalog.onInvalidate = () => this.runner.planChanged();
    d.slots.onDataLost(async () => {
      metrics.dataLost.inc();
      d.log.error(
        'Redis lost its data (its epoch marker is gone): putting back the slots of the calls in progress',
      );
      const r = await this.runner.restoreAfterDataLoss();
      d.log.warn(r, 'slots of the calls in progress put back');
    });
    d.asterisk.onResync(
      (nodeId, channels, listedAt) => void this.reconciler.resync(nodeId, channels, listedAt),
    );
    // Safety net for calls nobody is watching any more (an instance crashed mid-call, then the
    // call ended): their slots are freed once their channels are gone.
    if (d.reconcileEveryMs) this.reconciler.every(d.reconcileEveryMs);
  }

  /** Calls in progress, for /v1/calls/live. */
  live(): LiveCall[] {
    return [...this.runner.calls.values()].map(({ state: s }) => ({
      call_id: s.callId,
      node_id: s.nodeId,
      did: s.did,
      caller: s.callerNumber,
      phase: s.phase,
      started_at: new Date(s.startedAt).toISOString(),
      client_id: s.attempts.at(-1)?.clientId ?? null,
      seller_id: s.plan?.sellerId ?? null,
    }));
  }

  /** Resolves when every queued call task has run (tests, shutdown). */
  drain(): Promise<void> {
    this.reconciler.stop();
    this.runner.stop();
    return this.runner.drain();
  }

  /**
   * Stopping: our app's events are no longer acted on. Before saying goodbye (after which another
   * instance may take the calls over, and move their callers out of our app).
   */
  deafen(): void {
    this.handlers.deafen();
  }

  resync(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    return this.reconciler.resync(nodeId, channels, listedAt);
  }
}
