// The pure parts of a takeover: a call's state kept in Redis reads back as the state it was, and
// `resume` settles a call taken over without a client leg — every open attempt released once, ended
// (once, with an honest disposition) or routed again, never both.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Attempt,
  type CallPhase,
  type CallState,
  type Effect,
  ringBudgetMs,
  step,
} from '../../src/routing/call.ts';
import { decodeRecord, encodeRecord, recordSig, stateOfRecord } from '../../src/routing/call-record.ts';
import type { RoutePlan } from '../../src/routing/catalog.ts';
import { saveCallArgs } from '../../src/routing/call-store.ts';
import { RoutingKeys } from '../../src/platform/redis/keys.ts';
import type { SlotRef } from '../../src/routing/slots.ts';

const slotOf = (linkId: string, legId: string): SlotRef => ({
  linkId,
  slotId: legId,
  buckets: { hour: 'h', day: 'd', month: 'm' },
  nodeId: 'n1',
});

const planWith = (o: { ringTimeoutS: number; maxAttempts: number; queueS: number | null }): RoutePlan => ({
  did: '+15550001111',
  sellerId: 's1',
  campaign: {
    id: 'camp',
    active: true,
    strategy: 'priority',
    ringTimeoutS: o.ringTimeoutS,
    maxAttempts: o.maxAttempts,
    dupWindowH: null,
    dupPolicy: 'same_client',
    queueS: o.queueS,
  },
  links: [],
});

const T0 = 1_700_000_000_000;

/** A live call as a takeover may find it: any phase but ended, attempts ended or not. */
const liveCall: fc.Arbitrary<CallState> = fc
  .record({
    phase: fc.constantFrom<CallPhase>('routing', 'dialing', 'ringing', 'bridged', 'message', 'queued'),
    attempts: fc.array(
      fc.record({
        ended: fc.boolean(),
        answered: fc.boolean(),
        result: fc.constantFrom<NonNullable<Attempt['result']>>('busy', 'no_answer', 'failed', 'answered'),
        offset: fc.integer({ min: 0, max: 60_000 }),
      }),
      { maxLength: 4 },
    ),
    plan: fc.option(
      fc.record({
        ringTimeoutS: fc.integer({ min: 1, max: 600 }),
        maxAttempts: fc.integer({ min: 1, max: 5 }),
        queueS: fc.option(fc.integer({ min: 1, max: 3600 })),
      }),
    ),
    answered: fc.boolean(),
    reroutes: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ phase, attempts, plan, answered, reroutes }) => {
    const p = plan ? planWith(plan) : null;
    const atts: Attempt[] = attempts.map((a, i) => {
      const legId = `call-1-${i + 1}`;
      const base: Attempt = {
        linkId: `l${i}`,
        clientId: `c${i}`,
        legId,
        slot: slotOf(`l${i}`, legId),
        startedAt: T0 + a.offset,
      };
      // Only the last attempt may still be open.
      const open = i === attempts.length - 1 && !a.ended;
      return {
        ...base,
        ...(a.answered ? { answeredAt: T0 + a.offset + 1 } : {}),
        ...(open ? {} : { endedAt: T0 + a.offset + 2, result: a.result }),
      };
    });
    const s: CallState = {
      callId: 'call-1',
      callerChannelId: 'caller-chan',
      nodeId: 'n1',
      app: 'capconduit',
      did: '+15550001111',
      callerNumber: '+15550002222',
      startedAt: T0,
      plan: p,
      phase,
      attempts: atts,
      tried: atts.map((a) => a.linkId),
      preferClient: null,
      refused: [],
      maxAttempts: p?.campaign?.maxAttempts ?? 1,
      legInStasis: false,
      ...(answered || phase === 'bridged' ? { answeredAt: T0 + 5 } : {}),
      ...(reroutes ? { reroutes } : {}),
      ...(phase === 'queued' ? { queued: true } : {}),
      // Answered for hold music, a message or a client: the carrier's bill starts there.
      ...(answered || ['bridged', 'message', 'queued'].includes(phase) ? { callerAnsweredAt: T0 + 3 } : {}),
    };
    return s;
  });

const count = (fx: Effect[], type: Effect['type']) => fx.filter((e) => e.type === type).length;

describe('call record', () => {
  it('reads back as the call it was (what a CDR and a takeover need)', () => {
    fc.assert(
      fc.property(liveCall, fc.integer({ min: 0, max: 1e6 }), (s, dt) => {
        const rec = decodeRecord(encodeRecord(s, T0 + dt, 'owner-1'));
        expect(rec).not.toBeNull();
        expect(rec!.owner).toBe('owner-1');
        expect(rec!.updatedAt).toBe(T0 + dt);
        const slots = new Map(s.attempts.map((a) => [a.legId, a.slot]));
        const back = stateOfRecord(rec!, s.plan ?? null, slots);
        expect(back).toMatchObject({
          callId: s.callId,
          callerChannelId: s.callerChannelId,
          nodeId: s.nodeId,
          app: s.app,
          did: s.did,
          callerNumber: s.callerNumber,
          startedAt: s.startedAt,
          phase: s.phase,
          attempts: s.attempts,
        });
        expect(back.answeredAt).toBe(s.answeredAt);
        expect(back.callerAnsweredAt).toBe(s.callerAnsweredAt);
        expect(back.reroutes ?? 0).toBe(s.reroutes ?? 0);
        expect(back.maxAttempts).toBeGreaterThanOrEqual(s.maxAttempts);
      }),
      { numRuns: 300 },
    );
  });

  it('writes of only what changed leave the record as one whole write would', () => {
    const keys = new RoutingKeys('cc');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(liveCall, fc.integer({ min: 0, max: 1e6 })), { minLength: 1, maxLength: 6 }),
        (writes) => {
          // What Redis holds after each saveCall-2.lua: the pairs of its ARGV from the fifth on, set in order.
          const hash: Record<string, string> = {};
          let prev: Record<string, string> | undefined;
          for (const [s, dt] of writes) {
            const fields = encodeRecord(s, T0 + dt);
            const { keys: k, args } = saveCallArgs(keys, 'owner-1', 60_000, fields, prev, s.nodeId, T0 + dt);
            expect(k).toEqual([keys.call(s.callId), keys.callsOf(s.nodeId)]);
            for (let i = 4; i < args.length; i += 2) hash[String(args[i])] = String(args[i + 1]);
            prev = fields;
          }
          const [last, dt] = writes[writes.length - 1]!;
          expect(hash).toEqual(encodeRecord(last, T0 + dt));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a hash that is not a record reads as none', () => {
    expect(decodeRecord({})).toBeNull();
    expect(decodeRecord({ id: 'x', node: 'n', t0: '1', ph: 'flying' })).toBeNull();
    expect(decodeRecord({ id: 'x', node: 'n', t0: '1', ph: 'routing', att: '{' })).toBeNull();
  });

  it('is written again when what a takeover acts on changes, not when a leg merely starts ringing', () => {
    fc.assert(
      fc.property(liveCall, (s) => {
        if (s.phase === 'dialing') expect(recordSig({ ...s, phase: 'ringing' })).toBe(recordSig(s));
        const more: Attempt = {
          linkId: 'lx',
          clientId: 'cx',
          legId: 'call-1-9',
          slot: slotOf('lx', 'call-1-9'),
          startedAt: T0,
        };
        expect(recordSig({ ...s, attempts: [...s.attempts, more] })).not.toBe(recordSig(s));
        if (s.phase !== 'queued') expect(recordSig({ ...s, phase: 'queued' })).not.toBe(recordSig(s));
      }),
      { numRuns: 200 },
    );
  });
});

describe('resume (a call taken over with no client leg left)', () => {
  const event = fc.record({
    callerLive: fc.boolean(),
    lastSeen: fc.integer({ min: T0 - 1000, max: T0 + 4 * 3600_000 }),
    at: fc.integer({ min: T0, max: T0 + 4 * 3600_000 }),
  });

  it('releases every open attempt once and either ends the call once or routes it again', () => {
    fc.assert(
      fc.property(liveCall, event, (s, e) => {
        const { state, effects } = step(s, { type: 'resume', ...e });
        const open = s.attempts.filter((a) => !a.endedAt);
        for (const a of open)
          expect(effects.filter((x) => x.type === 'release' && x.legId === a.legId)).toHaveLength(1);
        expect(count(effects, 'release')).toBe(open.length);
        expect(state.attempts.every((a) => a.endedAt !== undefined)).toBe(true);
        const ended = state.phase === 'ended';
        // A caller waiting on hold keeps its place in the lines (no leaving, no routing afresh).
        const waits = state.phase === 'queued';
        expect(count(effects, 'finish')).toBe(ended ? 1 : 0);
        expect(count(effects, 'try_next')).toBe(ended || waits ? 0 : 1);
        if (!ended && !waits) expect(state.phase).toBe('routing');
        if (waits) {
          expect(s.phase).toBe('queued');
          expect(effects.filter((x) => x.type === 'enqueue')).toMatchObject([
            { rejoin: { since: s.startedAt } },
          ]);
        }
        if (s.phase === 'queued') expect(count(effects, 'dequeue')).toBe(waits ? 0 : 1);
        // Settled once: a second resume (another pass) changes nothing.
        if (ended) expect(step(state, { type: 'resume', ...e }).effects).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('a call whose channels are gone ends unattended, at the last moment its owner was seen', () => {
    fc.assert(
      fc.property(liveCall, event, (s, e) => {
        const { state, effects } = step(s, { type: 'resume', ...e, callerLive: false });
        expect(state).toMatchObject({ phase: 'ended', disposition: 'ended_unattended' });
        expect(state.endedAt).toBe(Math.max(e.lastSeen, s.startedAt));
        expect(state.answeredAt).toBe(s.answeredAt);
        // Nobody to hang up but legs that might linger; never the caller.
        expect(effects.some((x) => x.type === 'hangup' && x.channelId === s.callerChannelId)).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('a caller still waiting is routed again within its ring budget and hung up past it', () => {
    fc.assert(
      fc.property(liveCall, event, (s, e) => {
        const { state, effects } = step(s, { type: 'resume', ...e, callerLive: true });
        const hungUp = effects.find((x) => x.type === 'hangup' && x.channelId === s.callerChannelId);
        if (s.phase === 'message') expect(state.disposition).toBe('default_route');
        else if (s.answeredAt) expect(state.disposition).toBe('answered');
        else if (!s.plan?.campaign) expect(state.disposition).toBe('unknown_did');
        else if (e.at - s.startedAt >= ringBudgetMs(s)) {
          expect(state.disposition).toBe('unattended_timeout');
          expect(hungUp).toMatchObject({ reason: 'congestion' });
        } else if (s.attempts.length >= s.maxAttempts) expect(state.disposition).toBe('all_failed');
        else if (
          s.phase === 'queued' &&
          s.plan.campaign.queueS &&
          ringBudgetMs(s) - (e.at - s.startedAt) >= 1000
        ) {
          // Still on hold, in its place, for what is left of its wait (at most the campaign's).
          expect(state.phase).toBe('queued');
          expect(hungUp).toBeUndefined();
          const enq = effects.find((x) => x.type === 'enqueue');
          expect(enq).toMatchObject({ linkIds: state.waitLinks, rejoin: { since: s.startedAt } });
          const leftS = enq?.type === 'enqueue' ? enq.rejoin!.leftS : 0;
          expect(leftS).toBeGreaterThanOrEqual(1);
          expect(leftS).toBeLessThanOrEqual(s.plan.campaign.queueS);
          expect(leftS * 1000).toBeLessThanOrEqual(ringBudgetMs(s) - (e.at - s.startedAt));
        } else {
          expect(state.phase).toBe('routing');
          expect(hungUp).toBeUndefined();
          // The next leg id is not one an earlier attempt used.
          expect(state.attempts.length).toBe(s.attempts.length);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the ring budget is every attempt’s ring time plus the hold queue’s wait', () => {
    const s = {
      maxAttempts: 2,
      plan: planWith({ ringTimeoutS: 20, maxAttempts: 2, queueS: 60 }),
    } as CallState;
    expect(ringBudgetMs(s)).toBe(100_000);
    expect(ringBudgetMs({ ...s, plan: null })).toBe(0);
  });
});
