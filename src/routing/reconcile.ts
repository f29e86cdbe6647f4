// Reconcile against Asterisk: after a (re)connect and periodically, calls whose channels vanished
// while we were not looking are settled, and slots whose call no longer exists anywhere are freed.
// Single-flight per node: a reconcile asked for while one runs for that node joins it.
import type { AsteriskModule } from '../asterisk/index.ts';
import type { AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../platform/logger.ts';
import { AriError } from '../asterisk/index.ts';
import { type Attempt, type CallEvent, type CallState, type Effect, step } from './call.ts';
import { type CallRecord, stateOfRecord } from './call-record.ts';
import type { CallStore } from './call-store.ts';
import type { RouteCatalog } from './catalog.ts';
import { CALL_ID_VAR, CALLER_VAR, type CallRunner, OWNER_VAR } from './effects.ts';
import type { RoutingMetrics } from './metrics.ts';
import type { SlotRef, SlotStore } from './slots.ts';
import { didOf, startInbound } from './stasis.ts';
import { strayChannels } from './strays.ts';
import type { UnseenCalls } from './unseen.ts';

export class Reconciler {
  private running = new Map<string, Promise<void>>();
  private timer: NodeJS.Timeout | null = null;
  /** A pass per node due when the owner of calls found there is past its heartbeat bound. */
  private rechecks = new Map<string, NodeJS.Timeout>();

  constructor(
    private asterisk: AsteriskModule,
    private runner: CallRunner,
    private slots: SlotStore,
    private store: CallStore,
    private catalog: RouteCatalog,
    private metrics: RoutingMetrics,
    private log: Logger,
    private now: () => number,
    /** Reads back Asterisk's CDRs of callers nobody saw (none: not done). */
    private unseen: UnseenCalls | null = null,
  ) {}

  /** Every `ms`, each connected node's live channels are listed and compared. */
  every(ms: number): void {
    this.timer = setInterval(() => void this.all(), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.rechecks.values()) clearTimeout(t);
    this.rechecks.clear();
  }

  async all(): Promise<void> {
    for (const node of this.asterisk.nodes.values()) await this.one(node.id);
  }

  private async one(nodeId: string): Promise<void> {
    const node = this.asterisk.nodes.get(nodeId);
    if (!node?.ari.connected) return;
    try {
      const listedAt = Date.now();
      await this.resync(node.id, await node.ari.channels.list(), listedAt);
    } catch (err) {
      this.log.warn({ node: node.id, err: (err as Error).message }, 'slot reconcile skipped');
    }
  }

  /** Another pass on this node once an owner still thought alive is past its bound (if it never beats again). */
  private later(nodeId: string, lastBeat: number): void {
    if (this.rechecks.has(nodeId)) return;
    const wait = Math.max(lastBeat + this.store.opts.deadAfterMs - Date.now() + 100, 100);
    const t = setTimeout(() => {
      this.rechecks.delete(nodeId);
      void this.one(nodeId);
    }, wait);
    t.unref();
    this.rechecks.set(nodeId, t);
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
   *
   * Bounded: the slots are judged once the events and takeovers this pass handed to calls have run
   * (their releases and ends done), not once every call is idle. Under steady traffic some call
   * always has work queued, and a pass that waited for none left never ended; the next one,
   * single-flight per node, then never began. Calls this pass did not touch need no waiting: a slot
   * of theirs is judged by whether the call is still held here, and one taken after the listing is
   * not judged at all.
   */
  private async compare(nodeId: string, channels: AriChannel[], listedAt: number): Promise<void> {
    const live = new Map(channels.map((c) => [c.id, c]));
    const at = this.now();
    /** What this pass handed to calls (each never rejects). */
    const handed: Array<Promise<void>> = [];
    const feed = (callId: string, e: CallEvent) => handed.push(this.runner.feed(callId, e));
    for (const [callId, call] of this.runner.calls) {
      const s = call.state;
      if (s.nodeId !== nodeId || s.startedAt >= listedAt) continue;
      const current = s.attempts.at(-1);
      // A leg still being created may not be listed yet: judge it only once it reached Stasis.
      for (const a of s.attempts)
        if (!a.endedAt && a.startedAt < listedAt && !live.has(a.legId) && (a !== current || s.legInStasis))
          feed(callId, { type: 'leg_gone', legId: a.legId, cause: 16, at });
      // A leg that answered while the link was down (its ChannelStateChange was lost with it).
      if (
        current &&
        !current.endedAt &&
        !current.answeredAt &&
        (s.phase === 'ringing' || s.phase === 'dialing') &&
        live.get(current.legId)?.state === 'Up'
      )
        feed(callId, { type: 'leg_answered', legId: current.legId, at });
      if (!live.has(s.callerChannelId)) feed(callId, { type: 'caller_gone', cause: 16, at });
    }
    // Records of calls on this node that no call of ours is (a dead instance's, or ours from before a restart).
    const records = new Map(
      (await this.store.ofNode(nodeId, (id) => this.runner.calls.has(id) || this.runner.wasFinished(id))).map(
        (r) => [r.callId, r],
      ),
    );
    await this.takeOver(nodeId, channels, records, handed);
    await this.resume(nodeId, channels, listedAt, records, handed);
    this.strays(nodeId, channels, listedAt, records);
    await Promise.all(handed);
    const liveCalls = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const released = await this.slots.reconcile(
      nodeId,
      (slotId) => {
        // A leg whose hangup is not confirmed may still be made (its create got no answer).
        if (live.has(slotId) || this.runner.cleanup.holds(slotId)) return true;
        const callId = slotId.replace(/-\d+$/, '');
        return this.runner.calls.has(callId) || liveCalls.has(callId);
      },
      listedAt,
    );
    if (released) this.log.warn({ nodeId, released }, 'released routing slots of calls that no longer exist');
    await this.sweepUnseen(nodeId, records);
  }

  /**
   * Callers that entered our app and hung up while no instance ran: known only from Asterisk's own
   * CDRs (unseen.ts). A caller of a call in progress or lately ended here, or recorded in Redis (its
   * owner alive, or a takeover due), is not one of them. A failure is logged; the next pass reads the same window.
   */
  private async sweepUnseen(nodeId: string, records: Map<string, CallRecord>): Promise<void> {
    if (!this.unseen) return;
    const recorded = new Set([...records.values()].map((r) => r.callerChannelId));
    // A caller whose call ended here lately: its CDR may still wait in our journal for the next flush.
    const known = (ch: string) =>
      this.runner.byChannel.has(ch) || recorded.has(ch) || this.runner.callerEnded(ch);
    await this.unseen.sweep(nodeId, known).catch((err: unknown) => {
      this.log.warn({ nodeId, err: (err as Error).message }, "reading Asterisk's CDRs back failed");
    });
  }

  /**
   * Calls of ours that no living process holds: client legs tagged with one of our app names and a
   * call id this instance does not know (the instance crashed and was started again; Asterisk kept
   * the channels in Stasis). Each is rebuilt from Asterisk (caller, legs, bridge) and Redis (the
   * slots its legs hold), then settled by the state machine like any other call: a bridged call is
   * resumed (its CDR is written when one side hangs up), a call still ringing fails over (the caller
   * waited long enough), a call whose caller is gone ends. Each frees exactly its own slots.
   */
  private async takeOver(
    nodeId: string,
    channels: AriChannel[],
    records: Map<string, CallRecord>,
    handed: Array<Promise<void>>,
  ): Promise<void> {
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
    // A call whose owner still beats is not ours to take (two instances on one node): looked at
    // again once its owner is past the bound. A call without a record (its write failed) is taken.
    for (const callId of [...orphans.keys()]) {
      const claim = await this.store.claim(callId).catch(() => null);
      if (claim?.kind !== 'alive') continue;
      orphans.delete(callId);
      this.later(nodeId, claim.lastBeat);
    }
    if (!orphans.size) return;
    const slots = await this.slots.slotsOf([...orphans.values()].flat().map((c) => c.id));
    const ari = this.asterisk.nodes.get(nodeId)?.ari;
    for (const [callId, legs] of orphans) {
      const v = legs[0]!.channelvars ?? {};
      const rec = records.get(callId);
      const caller = byId.get(v[CALLER_VAR] ?? '');
      const did = caller ? didOf(caller, []) : (rec?.did ?? '');
      const plan = did ? await this.catalog.plan(did).catch(() => null) : null;
      const now = this.now();
      const born = (c: AriChannel) => Date.parse(c.creationtime) || now;
      // Legs are named <call id>-<n>: the highest n is the attempt in progress.
      const ordered = [...legs].sort((a, b) => legNo(a.id) - legNo(b.id));
      const answered = ordered.find((l) => l.state === 'Up');
      const current = answered ?? ordered.at(-1)!;
      // When the answer came: as the record says (the owner saw it), else now (it answered while no
      // instance watched). The CDR's times, the talk cap, the end reason and the limit run from it.
      const recorded = rec?.attempts.find((x) => x.legId === answered?.id)?.answeredAt;
      const answerAt = recorded ?? now;
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
        if (l === answered) return { ...a, answeredAt: answerAt, result: 'answered' };
        return a;
      });
      // Legs left over from earlier attempts: hung up and their slots given back now.
      const effects: Effect[] = [];
      const live = attempts.map((a) => {
        if (a.legId === current.id) return a;
        effects.push({ type: 'hangup', channelId: a.legId, reason: 'normal' });
        effects.push({ type: 'release', linkId: a.linkId, legId: a.legId, slot: a.slot });
        return { ...a, endedAt: now, result: 'failed' as const };
      });
      // Attempts that ended before the crash (their legs gone) come from the record: the CDR lists
      // them, and the next leg's id (`<call id>-<n>`) does not reuse one of theirs.
      const liveIds = new Set(live.map((a) => a.legId));
      const earlier = rec
        ? stateOfRecord(rec, plan, new Map()).attempts.filter((a) => !liveIds.has(a.legId) && a.endedAt)
        : [];
      const settled = [...earlier, ...live].sort((a, b) => legNo(a.legId) - legNo(b.legId));
      const bridged = Boolean(answered);
      const state: CallState = {
        callId,
        // Named even when the caller is gone (its legs say which channel it was): the CDR names it, so
        // Asterisk's own record of that caller is known to be this call's (unseen.ts).
        callerChannelId: caller?.id ?? rec?.callerChannelId ?? v[CALLER_VAR] ?? '',
        nodeId,
        app: v[OWNER_VAR]!,
        did,
        callerNumber: caller?.caller?.number ?? rec?.callerNumber ?? '',
        startedAt: rec?.startedAt ?? (caller ? born(caller) : born(ordered[0]!)),
        plan,
        phase: bridged ? 'bridged' : 'ringing',
        attempts: settled,
        tried: settled.map((a) => a.linkId),
        preferClient: null,
        refused: [],
        maxAttempts: Math.max(rec?.maxAttempts ?? 0, plan?.campaign?.maxAttempts ?? settled.length),
        legInStasis: true,
        ...(bridged ? { answeredAt: rec?.answeredAt ?? answerAt } : {}),
      };
      let then: CallEvent | null;
      let as: string;
      if (!caller) {
        then = { type: 'caller_gone', cause: 16, at: now };
        as = 'ended';
        // Its CDR will say the leg answered: the slot is marked answered too (a no-op when its owner
        // did it), or the answer would be in the CDR and missing from the totals.
        const a = answered && settled.find((x) => x.legId === answered.id);
        if (a?.linkId)
          effects.push({ type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember: null });
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
        // The maximum call length, for what is left of it: Asterisk keeps a TIMEOUT(absolute) it was
        // told, but a limit the dead owner kept itself (or had not set yet) is gone. Set again from
        // the recorded answer; one already due cuts the call in a second (0 would cancel it).
        const maxS = plan?.campaign?.maxCallS;
        if (maxS) {
          const left = Math.max(1, Math.ceil(maxS - (now - answerAt) / 1000));
          effects.push({ type: 'limit_length', channels: [caller.id, current.id], seconds: left });
        }
        if (plan?.campaign?.recordCalls) effects.push({ type: 'track_recording' });
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
      handed.push(this.runner.adopt(state, effects, then));
    }
  }

  /** Routes the callers whose StasisStart was lost and hangs up the legs nobody holds (strayChannels). */
  private strays(
    nodeId: string,
    channels: AriChannel[],
    listedAt: number,
    records: Map<string, CallRecord>,
  ): void {
    const found = strayChannels(
      { apps: this.asterisk.apps, runner: this.runner },
      channels,
      listedAt,
      records,
    );
    for (const { ch, app, args } of found.callers) {
      this.metrics.strays.inc({ as: 'caller_routed' });
      this.log.warn(
        { nodeId, channel: ch.id },
        'found a caller in our app whose StasisStart never arrived; routing it now',
      );
      startInbound(this.runner, nodeId, ch, app, args, this.now);
    }
    for (const ch of found.legs) {
      this.metrics.strays.inc({ as: 'leg_hung_up' });
      this.log.warn(
        { nodeId, channel: ch.id, callId: ch.channelvars?.[CALL_ID_VAR] },
        'hanging up a client leg of a call that is over',
      );
      void this.runner.hangupSurely(nodeId, ch.id, 'normal');
    }
  }

  /**
   * Calls whose record says they are ours to settle and that have no client leg in Asterisk: the
   * caller waited in our app (deciding, queued, hearing a message) when its owner died, or the call
   * ended entirely while no instance watched it. Each is claimed (one instance wins), rebuilt from
   * its record and settled by the state machine's `resume`: routed again, or ended with one CDR.
   */
  private async resume(
    nodeId: string,
    channels: AriChannel[],
    listedAt: number,
    records: Map<string, CallRecord>,
    handed: Array<Promise<void>>,
  ): Promise<void> {
    const live = new Set(channels.map((c) => c.id));
    const withLegs = new Set(channels.map((c) => c.channelvars?.[CALL_ID_VAR]).filter(Boolean));
    const due: CallRecord[] = [];
    for (const r of records.values()) {
      if (this.runner.calls.has(r.callId) || this.runner.wasFinished(r.callId)) continue;
      // A call that began during the listing may not be in it; one with a leg is taken over above.
      if (r.startedAt >= listedAt || withLegs.has(r.callId)) continue;
      const callerLive = live.has(r.callerChannelId);
      // A caller still in another instance's app cannot be routed from here (its events go there).
      if (callerLive && !this.asterisk.apps.includes(r.app)) continue;
      due.push(r);
    }
    if (!due.length) return;
    const slots = await this.slots.slotsOfCalls(due.map((r) => r.callId));
    for (const r of due) {
      const claim = await this.store.claim(r.callId);
      if (claim.kind === 'alive') {
        this.later(nodeId, claim.lastBeat);
        continue;
      }
      if (claim.kind === 'unknown') continue; // its CDR was written meanwhile
      const plan = !r.did
        ? null
        : r.homeCampaignId && r.campaignId
          ? await this.catalog.planVia(r.did, r.campaignId)
          : await this.catalog.plan(r.did);
      const state = stateOfRecord(r, plan, slots);
      // A slot its owner took just before dying, before the attempt was recorded: released too.
      const known = new Set(state.attempts.map((a) => a.legId));
      for (const [slotId, slot] of slots) {
        if (known.has(slotId) || slotId.replace(/-\d+$/, '') !== r.callId) continue;
        state.attempts.push({
          linkId: slot.linkId,
          clientId: '',
          legId: slotId,
          slot,
          startedAt: r.updatedAt,
        });
      }
      state.attempts.sort((a, b) => legNo(a.legId) - legNo(b.legId));
      const now = this.now();
      const callerLive = live.has(r.callerChannelId);
      const ev: CallEvent = {
        type: 'resume',
        callerLive,
        lastSeen: Math.max(claim.lastBeat ?? 0, r.updatedAt),
        at: now,
      };
      const after = step(state, ev).state;
      const as = !callerLive ? 'ended_unattended' : after.phase === 'ended' ? after.disposition! : 'rerouted';
      this.metrics.takenOver.inc({ as });
      this.log.warn(
        { callId: r.callId, nodeId, as, phase: r.phase, owner: r.owner },
        'took over a call from its state in Redis',
      );
      // Attempts the record says answered are marked so in their slots before the call is settled
      // (a no-op where the owner did it before dying): the CDR and the totals count the same answers.
      const marks: Effect[] = state.attempts
        .filter((a) => a.answeredAt !== undefined && a.linkId && a.slot.linkId)
        .map((a) => ({ type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember: null }));
      handed.push(this.runner.adopt(state, marks, ev));
    }
  }
}

const legNo = (id: string) => Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
