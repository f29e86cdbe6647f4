import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { cdrOf } from '../../src/cdr/record.ts';
import { type CallState, newCall, step } from '../../src/routing/call.ts';
import type { RoutePlan } from '../../src/routing/catalog.ts';
import { outcomeOf } from '../../src/routing/outcome.ts';

const plan: RoutePlan = {
  did: '+15550001111',
  sellerId: 'seller-1',
  campaign: {
    id: 'camp-1',
    active: true,
    strategy: 'priority',
    ringTimeoutS: 20,
    maxAttempts: 2,
    dupWindowH: null,
    dupPolicy: 'same_client',
  },
  links: [],
};
const slot = (linkId: string) => ({
  linkId,
  slotId: `s-${linkId}`,
  buckets: { hour: 'h', day: 'd', month: 'm' },
});

/** A call through the real state machine: link A busy, link B answers, caller hangs up. */
function answeredCall(t0: number): CallState {
  let s = newCall({
    callId: 'call-1',
    callerChannelId: 'chan-1',
    nodeId: 'node-1',
    app: 'capconduit',
    did: plan.did,
    callerNumber: '+15557770000',
    startedAt: t0,
  }).state;
  const go = (e: Parameters<typeof step>[1]) => {
    s = step(s, e).state;
  };
  go({ type: 'plan_loaded', plan, at: t0 + 10 });
  const refused = [{ linkId: 'C', clientId: 'cc', reason: 'daily' as const }];
  go({
    type: 'attempt',
    linkId: 'A',
    clientId: 'ca',
    legId: 'leg-a',
    slot: slot('A'),
    endpoint: 'PJSIP/a',
    tried: ['A'],
    refused,
    at: t0 + 20,
  });
  go({ type: 'leg_stasis_start', legId: 'leg-a', at: t0 + 30 });
  go({ type: 'leg_gone', legId: 'leg-a', cause: 17, at: t0 + 1_000 });
  go({
    type: 'attempt',
    linkId: 'B',
    clientId: 'cb',
    legId: 'leg-b',
    slot: slot('B'),
    endpoint: 'PJSIP/b',
    tried: ['A', 'B'],
    at: t0 + 1_010,
  });
  go({ type: 'leg_stasis_start', legId: 'leg-b', at: t0 + 1_020 });
  go({ type: 'leg_answered', legId: 'leg-b', at: t0 + 3_000 });
  go({ type: 'caller_gone', cause: 16, at: t0 + 63_000 });
  return s;
}

/** A revenue recovery: link A answers at 2 s and hangs up at 5 s (short), link B answers at 9 s, caller ends at 69 s. */
function recoveredCall(t0: number): CallState {
  const link = (linkId: string, recoveryS: number | null) => ({
    active: true,
    linkId,
    clientId: `c${linkId}`,
    endpoint: `PJSIP/${linkId}`,
    timezone: null,
    schedule: null,
    priority: 0,
    weight: 1,
    caps: { concurrency: null, hourly: null, daily: null, monthly: null, total: null },
    totalAnswered: 0,
    recoveryS,
  });
  const p: RoutePlan = {
    ...plan,
    didRatePerMinMicros: 60_000, // 1,000 micro-units a second
    campaign: { ...plan.campaign!, maxReroutes: 1 },
    links: [link('A', 300), link('B', null)],
  };
  let s = newCall({
    callId: 'call-2',
    callerChannelId: 'chan-2',
    nodeId: 'node-1',
    app: 'capconduit',
    did: plan.did,
    callerNumber: '+15557770001',
    startedAt: t0,
  }).state;
  const go = (e: Parameters<typeof step>[1]) => {
    s = step(s, e).state;
  };
  go({ type: 'plan_loaded', plan: p, at: t0 + 10 });
  const attempt = (linkId: string, legId: string, at: number) =>
    go({
      type: 'attempt',
      linkId,
      clientId: `c${linkId}`,
      legId,
      slot: slot(linkId),
      endpoint: `PJSIP/${linkId}`,
      tried: [linkId],
      at,
    });
  attempt('A', 'leg-a', t0 + 20);
  go({ type: 'leg_stasis_start', legId: 'leg-a', at: t0 + 30 });
  go({ type: 'leg_answered', legId: 'leg-a', at: t0 + 2_000 });
  go({ type: 'leg_gone', legId: 'leg-a', cause: 16, at: t0 + 5_000 });
  attempt('B', 'leg-b', t0 + 5_010);
  go({ type: 'leg_stasis_start', legId: 'leg-b', at: t0 + 5_020 });
  go({ type: 'leg_answered', legId: 'leg-b', at: t0 + 9_000 });
  go({ type: 'caller_gone', cause: 16, at: t0 + 69_000 });
  return s;
}

describe('CDR record', () => {
  it("after a revenue recovery the carrier cost counts the caller's leg from its first answer: both clients' minutes and the ringing between", () => {
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    const s = recoveredCall(t0);
    expect(s.attempts.map((a) => [a.legId, a.result, a.shortAnswer ?? false])).toEqual([
      ['leg-a', 'answered', true],
      ['leg-b', 'answered', false],
    ]);
    const r = cdrOf(outcomeOf(s), t0 + 99_000);
    // The call's answer is the last client's (9 s); the caller's leg was up from 2 s to 69 s: 67 s
    // billed by the carrier, not the 60 s from the last answer.
    expect(r).toMatchObject({
      client_id: 'cB',
      answered_at: new Date(t0 + 9_000).toISOString(),
      cost_micros: 67_000,
    });
  });

  it("the carrier cost runs from the caller's answer (hold music, the default route's message), billable time from the client's", () => {
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    const link = {
      active: true,
      linkId: 'A',
      clientId: 'cA',
      endpoint: 'PJSIP/A',
      timezone: null,
      schedule: null,
      priority: 0,
      weight: 1,
      caps: { concurrency: 1, hourly: null, daily: null, monthly: null, total: null },
      totalAnswered: 0,
    };
    const run = (p: RoutePlan, events: Array<Parameters<typeof step>[1]>) => {
      let s = newCall({
        callId: 'call-q',
        callerChannelId: 'chan-q',
        nodeId: 'node-1',
        app: 'capconduit',
        did: plan.did,
        callerNumber: '+15557770009',
        startedAt: t0,
      }).state;
      s = step(s, { type: 'plan_loaded', plan: p, at: t0 + 10 }).state;
      for (const e of events) s = step(s, e).state;
      return s;
    };
    const capped = [{ linkId: 'A', clientId: 'cA', reason: 'concurrency' as const }];
    // Queued at 20 ms (answered, music), served at 30 s, the client answers at 32 s, the caller
    // hangs up at 92 s: the carrier bills 92 s, the client 60 s.
    const queued = run(
      {
        ...plan,
        didRatePerMinMicros: 60_000, // 1,000 micro-units a second
        campaign: { ...plan.campaign!, queueS: 600 },
        links: [link],
      },
      [
        { type: 'no_candidate', reason: 'no_client', tried: ['A'], refused: capped, at: t0 + 20 },
        {
          type: 'attempt',
          linkId: 'A',
          clientId: 'cA',
          legId: 'leg-q',
          slot: slot('A'),
          endpoint: 'PJSIP/A',
          tried: ['A'],
          at: t0 + 30_000,
        },
        { type: 'leg_stasis_start', legId: 'leg-q', at: t0 + 30_010 },
        { type: 'leg_answered', legId: 'leg-q', at: t0 + 32_000 },
        { type: 'caller_gone', cause: 16, at: t0 + 92_000 },
      ],
    );
    expect(queued.callerAnsweredAt).toBe(t0 + 20);
    expect(cdrOf(outcomeOf(queued), t0 + 99_000)).toMatchObject({
      disposition: 'answered',
      answered_at: new Date(t0 + 32_000).toISOString(),
      billable_s: 60,
      cost_micros: 92_000,
    });
    // Every link capped, the default route's message: answered to hear it for 10 s, billed for them.
    const message = run(
      {
        ...plan,
        didRatePerMinMicros: 60_000,
        campaign: { ...plan.campaign!, defaultRoute: { kind: 'message', media: ['sound:closed'] } },
        links: [link],
      },
      [
        { type: 'no_candidate', reason: 'no_client', tried: ['A'], refused: capped, at: t0 + 20 },
        { type: 'message_done', at: t0 + 10_020 },
      ],
    );
    expect(cdrOf(outcomeOf(message), t0 + 99_000)).toMatchObject({
      disposition: 'default_route',
      answered_at: null,
      billable_s: 0,
      cost_micros: 10_000,
    });
  });

  it("is built from routing's outcome: answering client, attempts, links not routed, durations", () => {
    const t0 = Date.UTC(2026, 0, 2, 3, 4, 5);
    const s = answeredCall(t0);
    expect(s.phase).toBe('ended');
    const r = cdrOf(outcomeOf(s), t0 + 99_000);
    expect(r).toMatchObject({
      call_id: 'call-1',
      node_id: 'node-1',
      seller_id: 'seller-1',
      campaign_id: 'camp-1',
      did: plan.did,
      caller_number: '+15557770000',
      client_id: 'cb',
      started_at: new Date(t0).toISOString(),
      answered_at: new Date(t0 + 3_000).toISOString(),
      ended_at: new Date(t0 + 63_000).toISOString(),
      duration_s: 63,
      billable_s: 60,
      disposition: 'answered',
      not_routed: [{ link_id: 'C', client_id: 'cc', reason: 'daily' }],
    });
    expect(r.attempts).toEqual([
      expect.objectContaining({
        link_id: 'A',
        client_id: 'ca',
        leg_id: 'leg-a',
        result: 'busy',
        ring_ms: 980,
      }),
      expect.objectContaining({
        link_id: 'B',
        client_id: 'cb',
        leg_id: 'leg-b',
        result: 'answered',
        ring_ms: 1_990,
      }),
    ]);
  });

  it('an unknown DID has no seller or campaign and is billed nothing', () => {
    const t0 = 1_700_000_000_000;
    const s0 = newCall({
      callId: 'c',
      callerChannelId: 'ch',
      nodeId: 'n',
      app: 'a',
      did: '+1',
      callerNumber: '',
      startedAt: t0,
    }).state;
    const s = step(s0, { type: 'plan_loaded', plan: null, at: t0 + 5 }).state;
    const r = cdrOf(outcomeOf(s), t0 + 10);
    expect(r).toMatchObject({
      seller_id: null,
      campaign_id: null,
      caller_number: null,
      billable_s: 0,
      client_id: null,
    });
    expect(r.disposition).toBe('unknown_did');
  });

  it('durations are never negative and billable never exceeds the duration (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2e12 }),
        fc.integer({ min: 0, max: 1e8 }),
        fc.integer({ min: 0, max: 1e8 }),
        fc.boolean(),
        (start, toAnswer, talk, answered) => {
          const r = cdrOf(
            {
              callId: 'c',
              nodeId: 'n',
              sellerId: null,
              campaignId: null,
              did: '',
              callerNumber: '',
              startedAt: start,
              answeredAt: answered ? start + toAnswer : undefined,
              endedAt: start + toAnswer + talk,
              attempts: [],
              notRouted: [],
            },
            0,
          );
          expect(r.duration_s).toBeGreaterThanOrEqual(r.billable_s);
          expect(r.billable_s).toBeGreaterThanOrEqual(0);
          expect(r.disposition).toBe('error');
        },
      ),
      { numRuns: 300 },
    );
  });

  it('src/cdr imports nothing from src/routing (routing maps its state to the CDR input)', () => {
    const dir = 'src/cdr';
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.ts') ? [join(d, e.name)] : [],
      );
    const bad = files(dir).flatMap((f) =>
      ts
        .preProcessFile(readFileSync(f, 'utf8'), true, true)
        .importedFiles.filter((i) => /(^|\/)routing\//.test(i.fileName))
        .map((i) => `${f}: ${i.fileName}`),
    );
    expect(bad).toEqual([]);
  });
});
