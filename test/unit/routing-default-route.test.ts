// The default route in the call state machine: taken when every link is capped, closed or off, at
// most once per call, each kind with its effects; whatever happens next the call finishes once.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CallEvent, type CallState, type Effect, step } from '../../src/routing/call.ts';
import type { RoutePlan } from '../../src/routing/catalog.ts';
import type { DefaultRoute } from '../../src/db/schema/routing.ts';
import { cdrOf } from '../../src/cdr/record.ts';
import { outcomeOf } from '../../src/routing/outcome.ts';
import { decodeRecord, encodeRecord, recordSig, stateOfRecord } from '../../src/routing/call-record.ts';
import { arrival, loaded, planCampaign, planOf } from '../helpers/call-plan.ts';

function routing(route: DefaultRoute | null): CallState {
  const home = planCampaign({ id: 'home', maxAttempts: 2, defaultRoute: route });
  return loaded(arrival().state, planOf(home), 1).state;
}

const other: RoutePlan = planOf(planCampaign({ id: 'other', maxAttempts: 3 }));
const routes: fc.Arbitrary<DefaultRoute> = fc.constantFrom<DefaultRoute>(
  { kind: 'campaign', campaign_id: 'other' },
  { kind: 'context', context: 'overflow', extension: 's', priority: 1 },
  { kind: 'message', media: ['sound:tt-weasels'] },
);

describe('default route', () => {
  it('none configured: a call no link can take ends as no_client, as before', () => {
    const r = step(routing(null), { type: 'no_candidate', reason: 'no_client', at: 2 });
    expect(r.state.disposition).toBe('no_client');
  });

  it('each kind does what it says, and the CDR names it', () => {
    const none: CallEvent = { type: 'no_candidate', reason: 'no_client', at: 2 };
    // Another campaign: its links are routed, the CDR keeps the DID's own campaign.
    const c = step(routing({ kind: 'campaign', campaign_id: 'other' }), none);
    expect(c.effects).toEqual([{ type: 'load_default_campaign', did: '+15550001111', campaignId: 'other' }]);
    const c2 = step(c.state, { type: 'default_plan_loaded', plan: other, at: 3 });
    expect(c2.effects).toEqual([{ type: 'try_next' }]);
    expect(c2.state).toMatchObject({ maxAttempts: 3, plan: { campaign: { id: 'other' } } });
    expect(outcomeOf(c2.state)).toMatchObject({ campaignId: 'home', defaultRoute: 'campaign:other' });
    // That campaign capped too: the call ends, and does not take a default route again.
    const c3 = step(c2.state, none);
    expect(c3.state.disposition).toBe('no_client');
    // A dialplan context: the call leaves our app there and goes on until the caller hangs up.
    const x = step(routing({ kind: 'context', context: 'overflow', extension: 's', priority: 1 }), none);
    expect(x.effects).toEqual([
      { type: 'continue_dialplan', context: 'overflow', extension: 's', priority: 1 },
    ]);
    expect(x.state).toMatchObject({ phase: 'dialplan', handedOffAt: 2 });
    // Leaving Stasis for it is not the end; the dialplan answering is noted; the hangup ends the call.
    expect(step(x.state, { type: 'caller_gone', cause: 16, at: 3, left: true })).toEqual({
      state: x.state,
      effects: [],
    });
    const x2 = step(x.state, { type: 'caller_up', at: 4 });
    expect(x2.state.callerAnsweredAt).toBe(4);
    const x3 = step(x2.state, { type: 'caller_gone', cause: 16, at: 65_004 });
    expect(x3.effects).toEqual([{ type: 'finish' }]);
    expect(x3.state).toMatchObject({
      phase: 'ended',
      disposition: 'default_route',
      endedAt: 65_004,
      cause: 16,
    });
    expect(outcomeOf(x3.state)).toMatchObject({ defaultRoute: 'context:overflow', handedOffAt: 2 });
    // Its record: the whole call, the carrier's minute and a bit from the dialplan's answer; no client, no money.
    const cdr = cdrOf({ ...outcomeOf(x3.state), didRatePerMinMicros: 60_000 }, 70_000);
    expect(cdr).toMatchObject({
      disposition: 'default_route',
      default_route: 'context:overflow',
      handed_off_at: new Date(2).toISOString(),
      ended_at: new Date(65_004).toISOString(),
      duration_s: 65,
      client_id: null,
      converted: false,
      payout_micros: 0,
      revenue_micros: 0,
      cost_micros: 65_000,
    });
    // Its caller gone while no instance ran: taken over, it ends at the last moment seen.
    const t = step(x.state, { type: 'resume', callerLive: false, lastSeen: 30_000, at: 90_000 });
    expect(t.state).toMatchObject({ phase: 'ended', disposition: 'default_route', endedAt: 30_000 });
    expect(step(x.state, { type: 'resume', callerLive: true, lastSeen: 30_000, at: 90_000 })).toEqual({
      state: x.state,
      effects: [{ type: 'follow_caller' }],
    });
    // A message: played, then the caller is hung up.
    const m = step(routing({ kind: 'message', media: ['sound:tt-weasels'] }), none);
    expect(m.effects).toEqual([{ type: 'play_message', media: ['sound:tt-weasels'] }]);
    const m2 = step(m.state, { type: 'message_done', at: 5 });
    expect(m2.effects).toEqual([
      { type: 'hangup', channelId: 'caller', reason: 'normal' },
      { type: 'finish' },
    ]);
    expect(m2.state.disposition).toBe('default_route');
  });

  it("a dialplan context's answer is written to the call's record, and a takeover keeps it; one it did not see is taken at the takeover", () => {
    const none: CallEvent = { type: 'no_candidate', reason: 'no_client', at: 2 };
    const x = step(
      routing({ kind: 'context', context: 'overflow', extension: 's', priority: 1 }),
      none,
    ).state;
    const up = step(x, { type: 'caller_up', at: 4 }).state;
    // The answer alone changes what a takeover acts on: the record is written again.
    expect(recordSig(up)).not.toBe(recordSig(x));
    // Read back from the record by a restarted instance: the answer time is still there.
    const back = stateOfRecord(decodeRecord(encodeRecord(up, 5, 'i1'))!, up.plan ?? null, new Map());
    expect(back.callerAnsweredAt).toBe(4);
    const kept = step(back, {
      type: 'resume',
      callerLive: true,
      callerUp: true,
      lastSeen: 30_000,
      at: 90_000,
    });
    expect(kept.state.callerAnsweredAt).toBe(4);
    expect(kept.effects).toEqual([{ type: 'follow_caller' }]);
    const end = step(kept.state, { type: 'caller_gone', cause: 16, at: 64_004 });
    expect(cdrOf({ ...outcomeOf(end.state), didRatePerMinMicros: 60_000 }, 70_000).cost_micros).toBe(64_000);
    // Answered while nobody watched: billed from the takeover, not never.
    const unseen = step(x, {
      type: 'resume',
      callerLive: true,
      callerUp: true,
      lastSeen: 30_000,
      at: 90_000,
    });
    expect(unseen.state.callerAnsweredAt).toBe(90_000);
    // Not answered yet: its answer will come as a channel state change.
    const ringing = step(x, {
      type: 'resume',
      callerLive: true,
      callerUp: false,
      lastSeen: 30_000,
      at: 90_000,
    });
    expect(ringing.state.callerAnsweredAt).toBeUndefined();
  });

  it('whatever follows (queue or not), the route is taken at most once and the call finishes exactly once', () => {
    const ev = fc.constantFrom<(s: CallState, n: number) => CallEvent>(
      (_s, at) => ({ type: 'no_candidate', reason: 'no_client', at }),
      (_s, at) => ({ type: 'no_candidate', reason: 'error', at }),
      (_s, at) => ({ type: 'default_plan_loaded', plan: other, at }),
      (_s, at) => ({ type: 'default_plan_loaded', plan: null, at }),
      (_s, at) => ({ type: 'message_done', at }),
      (_s, at) => ({
        type: 'no_candidate',
        reason: 'no_client',
        refused: [{ linkId: 'l1', clientId: 'c1', reason: 'concurrency' }],
        at,
      }),
      (_s, at) => ({ type: 'queue_poll', at }),
      (_s, at) => ({ type: 'queue_timeout', at }),
      (_s, at) => ({ type: 'caller_gone', cause: 16, at }),
    );
    fc.assert(
      fc.property(routes, fc.boolean(), fc.array(ev, { maxLength: 12 }), (route, queue, evs) => {
        let s = routing(route);
        if (queue && s.plan?.campaign)
          s = { ...s, plan: { ...s.plan, campaign: { ...s.plan.campaign, queueS: 30 } } };
        const effects: Effect[] = [];
        let at = 2;
        for (const f of [
          ...evs,
          (_s: CallState, n: number): CallEvent => ({ type: 'caller_gone', cause: 16, at: n }),
        ]) {
          const r = step(s, f(s, at++));
          s = r.state;
          effects.push(...r.effects);
        }
        expect(s.phase).toBe('ended');
        expect(effects.filter((e) => e.type === 'finish')).toHaveLength(1);
        const taken = effects.filter((e) =>
          ['load_default_campaign', 'continue_dialplan', 'play_message'].includes(e.type),
        );
        expect(taken.length).toBeLessThanOrEqual(1);
        // A call waits at most once, and leaves the queue whenever it waited.
        const joined = effects.filter((e) => e.type === 'enqueue').length;
        expect(joined).toBeLessThanOrEqual(1);
        if (joined) expect(effects.some((e) => e.type === 'dequeue')).toBe(true);
        if (s.disposition === 'default_route') expect(route.kind).not.toBe('campaign');
      }),
      { numRuns: 500 },
    );
  });
});
