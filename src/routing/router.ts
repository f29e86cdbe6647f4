// The inbound Stasis flow. Thin handlers turn ARI events into CallEvents for the pure state
// machine (call.ts); the effects it returns are performed here. Each call's events and effects run
// through one KeyedQueue entry at a time, in Asterisk's order. Channel ids are chosen by us and
// recorded before any REST call, so an event can never arrive for a leg we do not know.
import { randomUUID } from 'node:crypto';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AsteriskModule } from '../asterisk/index.ts';
import { AriError } from '../asterisk/ari.ts';
import { KeyedQueue } from '../asterisk/ordered.ts';
import type { AnyAriEvent, AriChannel } from '../asterisk/types.ts';
import type { CdrRecord, CdrWriter } from '../cdr/writer.ts';
import type { Logger } from '../logger.ts';
import { type CallEvent, type CallState, type Effect, newCall, step } from './call.ts';
import { dialString, type RouteCatalog, type RoutePlan } from './catalog.ts';
import { capBuckets, isOpen, orderCandidates, preferClient } from './decide.ts';
import type { SlotRef, SlotStore } from './slots.ts';
import type { AnsweredTotals } from './totals.ts';

export const CALL_ID_VAR = 'CAPCONDUIT_CALL_ID';

interface Call {
  state: CallState;
  nodeId: string;
  app: string;
  plan: RoutePlan | null;
  did: string;
  callerNumber: string;
  startedAt: number;
  tried: Set<string>;
  slots: Map<string, SlotRef>; // legId -> slot
  ringTimer?: NodeJS.Timeout;
  /** Duplicate caller within the campaign window: the client that answered them last. */
  preferClient: string | null;
}

export interface RouterDeps {
  asterisk: AsteriskModule;
  slots: SlotStore;
  catalog: RouteCatalog;
  cdr: CdrWriter;
  totals: AnsweredTotals;
  log: Logger;
  metrics: Registry;
  defaultTimezone: string;
  /** Periodic reconcile of slots against each node's live channels (ms); 0 disables. */
  reconcileEveryMs?: number;
  now?: () => number;
}

/**
 * The ARI event types onEvent acts on (the node filters out the rest; StasisStart comes apart).
 * No `Dial`: its one use would be ANSWER, which the leg's ChannelStateChange to Up also says, and
 * its three frames a call ("", RINGING, ANSWER) were a quarter of what a routed call brings.
 */
const ROUTER_EVENTS = ['CallBroadcast', 'ChannelStateChange', 'ChannelDestroyed', 'StasisEnd'] as const;

/** DID from a StasisStart: an explicit arg wins (calls handed over with `move`), else the dialplan exten. */
export function didOf(ch: AriChannel, args: string[]): string {
  const raw = (args[1] ?? ch.dialplan?.exten ?? '').trim();
  const digits = raw.replace(/[^\d+]/g, '');
  if (/^\+\d{8,15}$/.test(digits)) return digits;
  if (/^1\d{10}$/.test(digits)) return `+${digits}`;
  if (/^\d{10}$/.test(digits)) return `+1${digits}`; // NANP without country code, as US carriers send
  return digits.startsWith('+') || !digits ? digits : `+${digits}`;
}

export class InboundRouter {
  private calls = new Map<string, Call>(); // callId -> call
  private byChannel = new Map<string, string>(); // channel id (caller or leg) -> callId
  private queue: KeyedQueue;
  private now: () => number;
  private routed: Counter;
  private rejected: Counter;
  private decision: Histogram;

  constructor(private d: RouterDeps) {
    this.now = d.now ?? Date.now;
    this.queue = new KeyedQueue((key, err) => d.log.error({ err, callId: key }, 'call handler failed'));
    this.routed = new Counter({
      name: 'capconduit_calls_routed_total',
      help: 'Inbound calls by final disposition',
      labelNames: ['disposition'],
      registers: [d.metrics],
    });
    this.rejected = new Counter({
      name: 'capconduit_calls_rejected_total',
      help: 'Inbound calls rejected, by reason',
      labelNames: ['reason'],
      registers: [d.metrics],
    });
    this.decision = new Histogram({
      name: 'capconduit_routing_decision_seconds',
      help: 'StasisStart to client dial request',
      // Fine around the 10 ms objective, so its p99 reads off the buckets.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.009, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05, 0.1, 0.5],
      registers: [d.metrics],
    });
    const calls = this.calls;
    new Gauge({
      name: 'capconduit_inbound_calls_in_progress',
      help: 'Inbound calls held by this instance',
      registers: [d.metrics],
      collect() {
        this.set(calls.size);
      },
    });
    new Gauge({
      name: 'capconduit_routing_slots_in_use',
      help: 'Link slots held by calls on this instance (a client leg dialled and not yet ended)',
      registers: [d.metrics],
      collect() {
        let n = 0;
        for (const c of calls.values()) for (const a of c.state.attempts) if (!a.endedAt) n++;
        this.set(n);
      },
    });

    d.asterisk.onStasisStart('inbound', (nodeId, ev) =>
      this.onInbound(nodeId, ev.application, ev.channel, ev.args ?? []),
    );
    d.asterisk.onStasisStart('leg', (_nodeId, ev) =>
      this.feedChannel(ev.channel.id, { type: 'leg_stasis_start', legId: ev.channel.id, at: this.now() }),
    );
    d.asterisk.onAriEvent((nodeId, ev) => this.onEvent(nodeId, ev), [...ROUTER_EVENTS]);
    d.asterisk.onResync((nodeId, channels, listedAt) => void this.resync(nodeId, channels, listedAt));
    // Safety net for calls nobody is watching any more (an instance crashed mid-call, then the
    // call ended): their slots are freed once their channels are gone.
    if (d.reconcileEveryMs) {
      this.reconciler = setInterval(() => void this.reconcileAll(), d.reconcileEveryMs);
      this.reconciler.unref();
    }
  }

  private reconciler: NodeJS.Timeout | null = null;

  private async reconcileAll(): Promise<void> {
    for (const node of this.d.asterisk.nodes.values()) {
      if (!node.ari.connected) continue;
      try {
        const listedAt = Date.now();
        await this.resync(node.id, await node.ari.channels.list(), listedAt);
      } catch (err) {
        this.d.log.warn({ node: node.id, err: (err as Error).message }, 'slot reconcile skipped');
      }
    }
  }

  /** Calls in progress, for /v1/calls/live. */
  live(): Array<{
    call_id: string;
    node_id: string;
    did: string;
    caller: string;
    phase: string;
    started_at: string;
    client_id: string | null;
    seller_id: string | null;
  }> {
    return [...this.calls.entries()].map(([id, c]) => ({
      call_id: id,
      node_id: c.nodeId,
      did: c.did,
      caller: c.callerNumber,
      phase: c.state.phase,
      started_at: new Date(c.startedAt).toISOString(),
      client_id: c.state.attempts.at(-1)?.clientId ?? null,
      seller_id: c.plan?.sellerId ?? null,
    }));
  }

  /** Resolves when every queued call task has run (tests, shutdown). */
  drain(): Promise<void> {
    if (this.reconciler) clearInterval(this.reconciler);
    return this.queue.drain();
  }

  private onInbound(nodeId: string, app: string, ch: AriChannel, args: string[]): void {
    const callId = ch.channelvars?.[CALL_ID_VAR] || randomUUID();
    if (this.byChannel.has(ch.id)) return;
    const did = didOf(ch, args);
    const call: Call = {
      state: newCall(callId, ch.id, 1),
      nodeId,
      app,
      plan: null,
      did,
      callerNumber: ch.caller?.number ?? '',
      startedAt: this.now(),
      tried: new Set(),
      slots: new Map(),
      preferClient: null,
    };
    this.calls.set(callId, call);
    this.byChannel.set(ch.id, callId);
    void this.queue.run(callId, async () => {
      // The caller is not tagged with our call id (that would cost a REST request per call on the
      // hot path): client legs carry it from creation (channel variables), and the bridge that joins
      // the caller to a client is named by it, which is all a restarted instance needs.
      let plan: RoutePlan | null;
      try {
        plan = await this.d.catalog.plan(did);
      } catch (err) {
        this.d.log.error({ callId, did, err: (err as Error).message }, 'cannot load routing for the DID');
        return this.apply(callId, { type: 'no_candidate', reason: 'error', at: this.now() });
      }
      call.plan = plan;
      if (!plan) return this.apply(callId, { type: 'no_candidate', reason: 'unknown_did', at: this.now() });
      if (!plan.campaign)
        return this.apply(callId, { type: 'no_candidate', reason: 'unknown_did', at: this.now() });
      if (!plan.campaign.active)
        return this.apply(callId, { type: 'no_candidate', reason: 'inactive_campaign', at: this.now() });
      call.state = { ...call.state, maxAttempts: plan.campaign.maxAttempts };
      await this.tryNextOrFail(callId, async () => {
        const camp = plan.campaign!;
        if (!camp.dupWindowH || !call.callerNumber) return true;
        const last = await this.d.slots.lastClientOf(camp.id, call.callerNumber);
        if (last && camp.dupPolicy === 'reject') {
          await this.apply(callId, { type: 'no_candidate', reason: 'duplicate_rejected', at: this.now() });
          return false;
        }
        call.preferClient = last;
        return true;
      });
    });
  }

  /** Routing needs Redis (caps) and Asterisk: if either fails, the caller is told, not left hanging. */
  private async tryNextOrFail(callId: string, before?: () => Promise<boolean>): Promise<void> {
    try {
      if (before && !(await before())) return;
      await this.tryNext(callId);
    } catch (err) {
      this.d.log.error({ callId, err: (err as Error).message }, 'routing failed');
      await this.apply(callId, { type: 'no_candidate', reason: 'error', at: this.now() });
    }
  }

  private ari(call: Call) {
    const node = this.d.asterisk.nodes.get(call.nodeId);
    if (!node) throw new Error(`unknown node ${call.nodeId}`);
    return node.ari;
  }

  /** Takes the next eligible link's slot (atomic in Redis) and creates the client leg. */
  private async tryNext(callId: string): Promise<void> {
    const call = this.calls.get(callId);
    if (!call?.plan?.campaign) return;
    const now = this.now();
    const at = new Date(now);
    const eligible = call.plan.links.filter(
      (l) => !call.tried.has(l.linkId) && isOpen(l.schedule, l.timezone ?? this.d.defaultTimezone, at),
    );
    const strategy = call.plan.campaign.strategy;
    const rr =
      strategy === 'round_robin' && eligible.length > 1
        ? await this.d.slots.nextRoundRobin(call.plan.campaign.id)
        : 0;
    const ordered = preferClient(orderCandidates(strategy, eligible, { rrCounter: rr }), call.preferClient);
    for (const cand of ordered) {
      const l = call.plan.links.find((x) => x.linkId === cand.linkId)!;
      call.tried.add(l.linkId);
      const legId = `${callId}-${call.state.attempts.length + 1}`;
      const ref: SlotRef = {
        linkId: l.linkId,
        slotId: legId,
        buckets: capBuckets(l.timezone ?? this.d.defaultTimezone, at),
        nodeId: call.nodeId,
      };
      const r = await this.d.slots.take(
        ref,
        l.caps,
        now,
        l.caps.total !== null ? l.totalAnswered : undefined,
      );
      if (r !== 'taken') continue;
      call.slots.set(legId, ref);
      this.byChannel.set(legId, callId); // before the REST call: its events may beat the response
      await this.apply(callId, {
        type: 'attempt',
        linkId: l.linkId,
        clientId: l.clientId,
        legId,
        at: this.now(),
      });
      try {
        await this.ari(call).channels.create({
          endpoint: dialString(l.endpoint),
          app: call.app,
          channelId: legId,
          appArgs: `leg,${callId}`,
          variables: { [CALL_ID_VAR]: callId },
        });
      } catch (err) {
        // Allocation failed (unknown endpoint) or Asterisk refused: this attempt is unavailable.
        this.d.log.warn({ callId, legId, err: (err as Error).message }, 'client leg could not be created');
        await this.apply(callId, { type: 'leg_gone', legId, cause: 3, at: this.now() });
      }
      return;
    }
    await this.apply(callId, { type: 'no_candidate', reason: 'no_client', at: this.now() });
  }

  private feedChannel(channelId: string, e: CallEvent): void {
    const callId = this.byChannel.get(channelId);
    if (callId) void this.queue.run(callId, () => this.apply(callId, e));
  }

  private onEvent(nodeId: string, ev: AnyAriEvent): void {
    const at = this.now();
    switch (ev.type) {
      case 'CallBroadcast': {
        // StasisBroadcast offer: claim it for the app it was offered to; losing the race (409) is normal.
        const ch = (ev as { channel: AriChannel }).channel;
        const node = this.d.asterisk.nodes.get(nodeId);
        void node?.ari.events.claim(ch.id, ev.application).catch((err: unknown) => {
          if (!(err instanceof AriError) || err.status !== 409)
            this.d.log.warn({ err: (err as Error).message }, 'claim failed');
        });
        return;
      }
      case 'ChannelStateChange': {
        const ch = (ev as { channel: AriChannel }).channel;
        const callId = this.byChannel.get(ch.id);
        if (ch.state === 'Up' && callId && this.calls.get(callId)?.state.callerId !== ch.id)
          this.feedChannel(ch.id, { type: 'leg_answered', legId: ch.id, at });
        return;
      }
      case 'ChannelDestroyed':
      case 'StasisEnd': {
        const ch = (ev as { channel: AriChannel }).channel;
        const cause = (ev as { cause?: number }).cause ?? 16;
        const callId = this.byChannel.get(ch.id);
        if (!callId) return;
        const call = this.calls.get(callId);
        if (call?.state.callerId === ch.id) this.feedChannel(ch.id, { type: 'caller_gone', cause, at });
        else if (ev.type === 'ChannelDestroyed')
          this.feedChannel(ch.id, { type: 'leg_gone', legId: ch.id, cause, at });
        return;
      }
    }
  }

  private async apply(callId: string, e: CallEvent): Promise<void> {
    const call = this.calls.get(callId);
    if (!call) return;
    const before = call.state;
    const { state, effects } = step(before, e);
    call.state = state;
    for (const fx of effects) await this.perform(call, fx);
  }

  private async perform(call: Call, fx: Effect): Promise<void> {
    const ari = this.ari(call);
    const callId = call.state.callId;
    const ignore404 = (err: unknown) => {
      if (!(err instanceof AriError) || (err.status !== 404 && err.status !== 409 && err.status !== 422))
        throw err;
    };
    switch (fx.type) {
      case 'dial': {
        const timeout = call.plan?.campaign?.ringTimeoutS ?? 30;
        this.decision.observe((this.now() - call.startedAt) / 1000);
        clearTimeout(call.ringTimer);
        // Our own ring timer: Asterisk reports a dial timeout only as ChannelDestroyed, if at all.
        call.ringTimer = setTimeout(
          () => this.feedChannel(fx.legId, { type: 'ring_timeout', legId: fx.legId, at: this.now() }),
          timeout * 1000,
        );
        call.ringTimer.unref();
        await ari.channels
          .dial(fx.legId, { timeout, caller: call.state.callerId })
          .catch(async (err: unknown) => {
            this.d.log.warn({ callId, err: (err as Error).message }, 'dial failed');
            await ari.channels.hangup(fx.legId, 'congestion').catch(ignore404);
          });
        return;
      }
      case 'hangup':
        if (fx.channelId !== call.state.callerId) clearTimeout(call.ringTimer);
        await ari.channels.hangup(fx.channelId, fx.reason).catch(ignore404);
        return;
      case 'answer_caller':
        clearTimeout(call.ringTimer);
        await ari.channels.answer(call.state.callerId).catch(ignore404);
        return;
      case 'bridge':
        try {
          await ari.bridges.create({ bridgeId: callId, type: 'mixing' });
          await ari.bridges.addChannel(callId, [call.state.callerId, fx.legId]);
        } catch (err) {
          // Either party may hang up before the bridge is made (Asterisk answers 400 for a channel
          // that no longer exists); its ChannelDestroyed is queued behind us and ends the call. Any
          // other failure leaves two answered parties apart: hang both up rather than leave them.
          if (err instanceof AriError && [400, 404, 409, 422].includes(err.status)) return;
          this.d.log.error({ callId, err: (err as Error).message }, 'bridge failed; hanging up the call');
          await ari.channels.hangup(fx.legId, 'normal').catch(() => {});
          await ari.channels.hangup(call.state.callerId, 'normal').catch(() => {});
        }
        return;
      case 'mark_answered': {
        const camp = call.plan?.campaign;
        const answeredBy = call.state.attempts.at(-1)?.clientId;
        if (camp?.dupWindowH && call.callerNumber && answeredBy)
          await this.d.slots.rememberCaller(camp.id, call.callerNumber, answeredBy, camp.dupWindowH);
        const ref = [...call.slots.values()].find(
          (s) => s.linkId === fx.linkId && s.slotId === call.state.attempts.at(-1)?.legId,
        );
        if (ref && (await this.d.slots.answer(ref))) this.d.totals.add(fx.linkId);
        return;
      }
      case 'release': {
        const ref = call.slots.get(fx.legId);
        if (ref) await this.d.slots.release(ref);
        return;
      }
      case 'try_next':
        await this.tryNextOrFail(callId);
        return;
      case 'finish':
        await this.finish(call);
        return;
    }
  }

  private async finish(call: Call): Promise<void> {
    const s = call.state;
    clearTimeout(call.ringTimer);
    const callId = s.callId;
    if (s.answeredAt)
      await this.ari(call)
        .bridges.destroy(callId)
        .catch(() => {});
    this.calls.delete(callId);
    this.byChannel.delete(s.callerId);
    for (const a of s.attempts) this.byChannel.delete(a.legId);
    const ended = s.endedAt ?? this.now();
    const answered = s.attempts.find((a) => a.result === 'answered');
    const disposition = s.disposition ?? 'error';
    this.routed.inc({ disposition });
    if (disposition !== 'answered') this.rejected.inc({ reason: disposition });
    const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);
    const rec: CdrRecord = {
      call_id: callId,
      node_id: call.nodeId,
      seller_id: call.plan?.sellerId ?? null,
      campaign_id: call.plan?.campaign?.id ?? null,
      did: call.did || null,
      caller_number: call.callerNumber || null,
      client_id: answered?.clientId ?? null,
      started_at: new Date(call.startedAt).toISOString(),
      answered_at: iso(s.answeredAt),
      ended_at: new Date(ended).toISOString(),
      duration_s: Math.max(0, Math.round((ended - call.startedAt) / 1000)),
      billable_s: s.answeredAt ? Math.max(0, Math.round((ended - s.answeredAt) / 1000)) : 0,
      disposition,
      hangup_cause: s.cause ?? null,
      attempts: s.attempts.map((a) => ({
        link_id: a.linkId,
        client_id: a.clientId,
        leg_id: a.legId,
        result: a.result ?? 'failed',
        started_at: new Date(a.startedAt).toISOString(),
        answered_at: iso(a.answeredAt),
        ended_at: iso(a.endedAt),
        ring_ms: (a.answeredAt ?? a.endedAt ?? ended) - a.startedAt,
      })),
    };
    await this.d.cdr.write(rec);
  }

  /**
   * After a (re)connect, and periodically: calls whose channels vanished while we were away are
   * settled, and slots whose call no longer exists anywhere are released. Only what existed when the
   * list was asked for (`listedAt`) is judged: a call or leg that began during the request is missing
   * from the list without being over.
   */
  async resync(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const live = new Set(channels.map((c) => c.id));
    const at = this.now();
    for (const [callId, call] of this.calls) {
      if (call.nodeId !== nodeId || call.startedAt >= listedAt) continue;
      const current = call.state.attempts.at(-1);
      // A leg still being created may not be listed yet: judge it only once it reached Stasis.
      for (const a of call.state.attempts)
        if (
          !a.endedAt &&
          a.startedAt < listedAt &&
          !live.has(a.legId) &&
          (a !== current || call.state.legInStasis)
        )
          void this.queue.run(callId, () =>
            this.apply(callId, { type: 'leg_gone', legId: a.legId, cause: 16, at }),
          );
      if (!live.has(call.state.callerId))
        void this.queue.run(callId, () => this.apply(callId, { type: 'caller_gone', cause: 16, at }));
    }
    await this.queue.drain();
    const liveCalls = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const released = await this.d.slots.reconcile(
      nodeId,
      (slotId) => {
        if (live.has(slotId)) return true;
        const callId = slotId.replace(/-\d+$/, '');
        return this.calls.has(callId) || liveCalls.has(callId);
      },
      listedAt,
    );
    if (released)
      this.d.log.warn({ nodeId, released }, 'released routing slots of calls that no longer exist');
  }
}
