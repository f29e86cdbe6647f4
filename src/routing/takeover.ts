// Taking calls over from an instance that is gone, as a reconcile pass finds them (reconcile.ts
// runs both, single-flight per node): calls whose client legs are still in Asterisk (`takeOver`,
// rebuilt from Asterisk and Redis), and calls with no leg whose state Redis keeps (`resume`). Each
// call is claimed first (a call whose owner still beats is looked at again later), rebuilt, and
// handed to the call runner with the effects and the event that settle it.
import type { AsteriskModule } from '../asterisk/index.ts';
import { AriError } from '../asterisk/index.ts';
import type { AriChannel } from '../asterisk/types.ts';
import type { Logger } from '../platform/logger.ts';
import { type Attempt, type CallEvent, type CallState, type Effect, step } from './call.ts';
import { type CallRecord, stateOfRecord } from './call-record.ts';
import type { CallStore } from './call-store.ts';
import type { RouteCatalog } from './catalog.ts';
import { CALL_ID_VAR, CALLER_VAR, type CallRunner, OWNER_VAR } from './effects.ts';
import type { RoutingMetrics } from './metrics.ts';
import type { SlotRef, SlotStore } from './slots.ts';
import { didOf } from './stasis.ts';

/** What a takeover works with: the reconciler's parts, and its `later` (a pass due once an owner is past its bound). */
export interface TakeoverContext {
  asterisk: AsteriskModule;
  runner: CallRunner;
  slots: SlotStore;
  store: CallStore;
  catalog: RouteCatalog;
  metrics: RoutingMetrics;
  log: Logger;
  now: () => number;
  later(nodeId: string, lastBeat: number): void;
}

/**
 * Calls of ours that no living process holds: client legs tagged with one of our app names and a
 * call id this instance does not know (the instance crashed and was started again; Asterisk kept
 * the channels in Stasis). Each is rebuilt from Asterisk (caller, legs, bridge) and Redis (the
 * slots its legs hold), then settled by the state machine like any other call: a bridged call is
 * resumed (its CDR is written when one side hangs up), a call still ringing fails over (the caller
 * waited long enough), a call whose caller is gone ends. Each frees exactly its own slots.
 */
export async function takeOver(
  x: TakeoverContext,
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
    if (!callId || !x.asterisk.apps.includes(v[OWNER_VAR] ?? '')) continue;
    if (x.runner.calls.has(callId) || x.runner.byChannel.has(ch.id) || x.runner.wasFinished(callId)) continue;
    const legs = orphans.get(callId) ?? [];
    legs.push(ch);
    orphans.set(callId, legs);
  }
  if (!orphans.size) return;
  // A call whose owner still beats is not ours to take (two instances on one node): looked at
  // again once its owner is past the bound. A call without a record (its write failed) is taken.
  for (const callId of [...orphans.keys()]) {
    const claim = await x.store.claim(callId).catch(() => null);
    if (claim?.kind !== 'alive') continue;
    orphans.delete(callId);
    x.later(nodeId, claim.lastBeat);
  }
  if (!orphans.size) return;
  const slots = await x.slots.slotsOf([...orphans.values()].flat().map((c) => c.id));
  const ari = x.asterisk.nodes.get(nodeId)?.ari;
  for (const [callId, legs] of orphans) {
    const v = legs[0]!.channelvars ?? {};
    const rec = records.get(callId);
    const caller = byId.get(v[CALLER_VAR] ?? '');
    const did = caller ? didOf(caller, []) : (rec?.did ?? '');
    const plan = did ? await x.catalog.plan(did).catch(() => null) : null;
    const now = x.now();
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
      if (a?.linkId) effects.push({ type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember: null });
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
    x.metrics.takenOver.inc({ as });
    x.log.warn(
      { callId, nodeId, as, caller: v[CALLER_VAR] },
      'took over a call its previous owner left in Asterisk',
    );
    handed.push(x.runner.adopt(state, effects, then));
  }
}

/**
 * Calls whose record says they are ours to settle and that have no client leg in Asterisk: the
 * caller waited in our app (deciding, queued, hearing a message) when its owner died, or the call
 * ended entirely while no instance watched it. Each is claimed (one instance wins), rebuilt from
 * its record and settled by the state machine's `resume`: routed again, or ended with one CDR.
 */
export async function resume(
  x: TakeoverContext,
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
    if (x.runner.calls.has(r.callId) || x.runner.wasFinished(r.callId)) continue;
    // A call that began during the listing may not be in it; one with a leg is taken over above.
    if (r.startedAt >= listedAt || withLegs.has(r.callId)) continue;
    // A caller still in another instance's app (instances sharing a node, each its own app) is
    // moved into ours once its claim is won below: its events then come here.
    due.push(r);
  }
  if (!due.length) return;
  const slots = await x.slots.slotsOfCalls(due.map((r) => r.callId));
  for (const r of due) {
    const claim = await x.store.claim(r.callId);
    if (claim.kind === 'alive') {
      x.later(nodeId, claim.lastBeat);
      continue;
    }
    if (claim.kind === 'unknown') continue; // its CDR was written meanwhile
    const plan = !r.did
      ? null
      : r.homeCampaignId && r.campaignId
        ? await x.catalog.planVia(r.did, r.campaignId)
        : await x.catalog.plan(r.did);
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
    const now = x.now();
    const callerLive = live.has(r.callerChannelId);
    const ev: CallEvent = {
      type: 'resume',
      callerLive,
      callerUp: channels.some((c) => c.id === r.callerChannelId && c.state === 'Up'),
      lastSeen: Math.max(claim.lastBeat ?? 0, r.updatedAt),
      at: now,
    };
    const after = step(state, ev).state;
    const as = !callerLive ? 'ended_unattended' : after.phase === 'ended' ? after.disposition! : 'rerouted';
    // The caller is in the dead owner's app (another instance on this node): moved into ours, so
    // its hangup and the rest of its events reach the instance routing it now. Known to the runner
    // first (adopt), so its StasisStart here is not taken for a new caller. The record names our
    // app, so a takeover of ours moves it again. One sent on to the dialplan is in no app: ours
    // subscribes to its channel (follow_caller).
    const ours = x.asterisk.apps.includes(r.app) ? undefined : x.asterisk.apps[0];
    if (ours) state.app = ours;
    const elsewhere = callerLive && r.phase !== 'dialplan' ? ours : undefined;
    x.metrics.takenOver.inc({ as });
    x.log.warn(
      { callId: r.callId, nodeId, as, phase: r.phase, owner: r.owner },
      'took over a call from its state in Redis',
    );
    // Attempts the record says answered are marked so in their slots before the call is settled
    // (a no-op where the owner did it before dying): the CDR and the totals count the same answers.
    const marks: Effect[] = state.attempts
      .filter((a) => a.answeredAt !== undefined && a.linkId && a.slot.linkId)
      .map((a) => ({ type: 'mark_answered', linkId: a.linkId, slot: a.slot, remember: null }));
    handed.push(x.runner.adopt(state, marks, ev));
    if (elsewhere)
      await x.asterisk.nodes
        .get(nodeId)
        ?.ari.channels.move(r.callerChannelId, elsewhere, 'inbound')
        .catch((err: unknown) => {
          // Gone meanwhile: the next pass settles the call as its channel vanished.
          x.log.warn(
            { callId: r.callId, err: (err as Error).message },
            'could not move a taken-over caller here',
          );
        });
  }
}

const legNo = (id: string) => Number(/-(\d+)$/.exec(id)?.[1] ?? 0);
