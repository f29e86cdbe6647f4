// Reconcile against Asterisk: after a (re)connect and periodically, calls whose channels vanished
// while we were not looking are settled, and slots whose call no longer exists anywhere are freed.
// Single-flight per node: a reconcile asked for while one runs for that node joins it.
import type { AsteriskModule } from '../asterisk/index.ts';
import type { AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../platform/logger.ts';
import { AriError } from '../asterisk/index.ts';
import type { Attempt, CallEvent, CallState, Effect } from './call.ts';
import type { RouteCatalog } from './catalog.ts';
import { CALL_ID_VAR, CALLER_VAR, type CallRunner, OWNER_VAR } from './effects.ts';
import type { RoutingMetrics } from './metrics.ts';
import type { SlotRef, SlotStore } from './slots.ts';
import { didOf } from './stasis.ts';

export class Reconciler {
  private running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private asterisk: AsteriskModule,
    private runner: CallRunner,
    private slots: SlotStore,
    private catalog: RouteCatalog,
    private metrics: RoutingMetrics,
    private log: Logger,
    private now: () => number,
  ) {}

  /** Every `ms`, each connected node's live channels are listed and compared. */
  every(ms: number): void {
    this.timer = setInterval(() => void this.all(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async all(): Promise<void> {
    for (const node of this.asterisk.nodes.values()) {
      if (!node.ari.connected) continue;
      try {
        const listedAt = Date.now();
        await this.resync(node.id, await node.ari.channels.list(), listedAt);
      } catch (err) {
        this.log.warn({ node: node.id, err: (err as Error).message }, 'slot reconcile skipped');
      }
    }
  }

  /** Never rejects: a failure (Redis down) is logged, and the next pass tries again. */
  resync(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const inFlight = this.running.get(nodeId);
    if (inFlight) return inFlight;
    const run = this.compare(nodeId, channels, listedAt)
      .catch((err: unknown) => this.log.warn({ nodeId, err: (err as Error).message }, 'reconcile failed'))
      .finally(() => this.running.delete(nodeId));
    this.running.set(nodeId, run);
    return run;
  }

  /**
   * Only what existed when the list was asked for (`listedAt`) is judged: a call or leg that began
   * during the request is missing from the list without being over.
   */
  private async compare(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const live = new Set(channels.map((c) => c.id));
    const at = this.now();
    for (const [callId, call] of this.runner.calls) {
      const s = call.state;
      if (s.nodeId !== nodeId || s.startedAt >= listedAt) continue;
      const current = s.attempts.at(-1);
      // A leg still being created may not be listed yet: judge it only once it reached Stasis.
      for (const a of s.attempts)
        if (!a.endedAt && a.startedAt < listedAt && !live.has(a.legId) && (a !== current || s.legInStasis))
          void this.runner.feed(callId, { type: 'leg_gone', legId: a.legId, cause: 16, at });
      if (!live.has(s.callerChannelId)) void this.runner.feed(callId, { type: 'caller_gone', cause: 16, at });
    }
    await this.takeOver(nodeId, channels);
    await this.runner.drain();
    const liveCalls = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const released = await this.slots.reconcile(
      nodeId,
      (slotId) => {
        if (live.has(slotId)) return true;
        const callId = slotId.replace(/-\d+$/, '');
        return this.runner.calls.has(callId) || liveCalls.has(callId);
      },
      listedAt,
    );
    if (released) this.log.warn({ nodeId, released }, 'released routing slots of calls that no longer exist');
  }

  /**
   * Calls of ours that no living process holds: client legs tagged with one of our app names and a
   * call id this instance does not know (the instance crashed and was started again; Asterisk kept
   * the channels in Stasis). Each is rebuilt from Asterisk (caller, legs, bridge) and Redis (the
   * slots its legs hold), then settled by the state machine like any other call: a bridged call is
   * resumed (its CDR is written when one side hangs up), a call still ringing fails over (the caller
   * waited long enough), a call whose caller is gone ends. Each frees exactly its own slots.
   */
  private async takeOver(nodeId: string, channels: AriChannel[]): Promise<void> {
    const byId = new Map(channels.map((c) => [c.id, c]));
    const orphans = new Map<string, AriChannel[]>();
    for (const ch of channels) {
      const v = ch.channelvars ?? {};
      const callId = v[CALL_ID_VAR];
      if (!callId || !this.asterisk.apps.includes(v[OWNER_VAR] ?? '')) continue;
      if (
        this.runner.calls.has(callId) ||
        this.runner.byChannel.has(ch.id) ||
        this.runner.wasFinished(callId)
      )
        continue;
      const legs = orphans.get(callId) ?? [];
      legs.push(ch);
      orphans.set(callId, legs);
    }
    if (!orphans.size) return;
    const slots = await this.slots.slotsOf([...orphans.values()].flat().map((c) => c.id));
    const ari = this.asterisk.nodes.get(nodeId)?.ari;
    for (const [callId, legs] of orphans) {
      const v = legs[0]!.channelvars ?? {};
      const caller = byId.get(v[CALLER_VAR] ?? '');
      const did = caller ? didOf(caller, []) : '';
      const plan = did ? await this.catalog.plan(did).catch(() => null) : null;
      const now = this.now();
      const born = (c: AriChannel) => Date.parse(c.creationtime) || now;
      // Legs are named <call id>-<n>: the highest n is the attempt in progress.
      const ordered = [...legs].sort((a, b) => legNo(a.id) - legNo(b.id));
      const answered = ordered.find((l) => l.state === 'Up');
      const current = answered ?? ordered.at(-1)!;
      const attempts: Attempt[] = ordered.map((l) => {
        const slot: SlotRef = slots.get(l.id) ?? {
          linkId: '',
          slotId: l.id,
          buckets: { hour: '', day: '', month: '' },
          nodeId,
        };
        const a: Attempt = {
          linkId: slot.linkId,
          clientId: plan?.links.find((x) => x.linkId === slot.linkId)?.clientId ?? '',
          legId: l.id,
          slot,
          startedAt: born(l),
        };
        if (l === answered) return { ...a, answeredAt: now, result: 'answered' };
        return a;
      });
      // Legs left over from earlier attempts: hung up and their slots given back now.
      const effects: Effect[] = [];
      const settled = attempts.map((a) => {
        if (a.legId === current.id) return a;
        effects.push({ type: 'hangup', channelId: a.legId, reason: 'normal' });
        effects.push({ type: 'release', linkId: a.linkId, legId: a.legId, slot: a.slot });
        return { ...a, endedAt: now, result: 'failed' as const };
      });
      const bridged = Boolean(answered);
      const state: CallState = {
        callId,
        callerChannelId: caller?.id ?? '',
        nodeId,
        app: v[OWNER_VAR]!,
        did,
        callerNumber: caller?.caller?.number ?? '',
        startedAt: caller ? born(caller) : born(ordered[0]!),
        plan,
        phase: bridged ? 'bridged' : 'ringing',
        attempts: settled,
        tried: settled.map((a) => a.linkId),
        preferClient: null,
        refused: [],
        maxAttempts: plan?.campaign?.maxAttempts ?? settled.length,
        legInStasis: true,
        ...(bridged ? { answeredAt: now } : {}),
      };
      let then: CallEvent | null;
      let as: string;
      if (!caller) {
        then = { type: 'caller_gone', cause: 16, at: now };
        as = 'ended';
      } else if (bridged) {
        then = null;
        as = 'resumed';
        const bridge = await ari?.bridges.get(callId).catch((err: unknown) => {
          if (err instanceof AriError && err.status === 404) return null;
          throw err;
        });
        // The leg may have answered while no instance watched: the caller is answered, the two
        // bridged, and the slot marked answered (a no-op when its owner did it), or its release
        // would refund a call the CDR counts as answered.
        if (caller.state !== 'Up') effects.push({ type: 'answer_caller' });
        if (!bridge?.channels.includes(caller.id) || !bridge.channels.includes(current.id))
          effects.push({ type: 'bridge', legId: current.id });
        const a = settled.find((x) => x.legId === current.id)!;
        if (a.linkId) effects.push({ type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember: null });
      } else {
        // Ringing when its owner died: nobody knows how long it has rung. Fail over to the next link.
        then = { type: 'leg_failed', legId: current.id, cause: 19, at: now };
        as = 'failed_over';
      }
      this.metrics.takenOver.inc({ as });
      this.log.warn(
        { callId, nodeId, as, caller: v[CALLER_VAR] },
        'took over a call its previous owner left in Asterisk',
      );
      this.runner.adopt(state, effects, then);
    }
  }
}

const legNo = (id: string) => Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
