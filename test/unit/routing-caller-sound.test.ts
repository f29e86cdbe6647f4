// What a caller hears, as the state machine's effects leave it (call.ts soundAfter): a caller
// waiting for a client — deciding, a client ringing, queued, sent on after a short answer, moved to
// another campaign, taken over after its instance died — always hears ringing or music that
// Asterisk keeps on the channel by itself, never silence.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CallerSound,
  type CallEvent,
  type CallState,
  soundAfter,
  step,
} from '../../src/routing/call.ts';
import type { RoutePlan } from '../../src/routing/catalog.ts';
import { arrival, noCaps, planCampaign, planLink, planOf as plan } from '../helpers/call-plan.ts';

const link = (i: number) => planLink(i, { caps: { ...noCaps(), concurrency: 1 }, recoveryS: 10 });

const planOf = (id: string, defaultRoute: 'campaign' | 'message' | null): RoutePlan =>
  plan(
    planCampaign({
      id,
      maxReroutes: 1,
      queueS: 600,
      defaultRoute:
        defaultRoute === 'campaign'
          ? { kind: 'campaign', campaign_id: 'other' }
          : defaultRoute === 'message'
            ? { kind: 'message', media: ['sound:sorry'] }
            : null,
    }),
    [0, 1, 2, 3].map(link),
  );

type Move =
  | 'slot'
  | 'capped'
  | 'none'
  | 'stasis'
  | 'answer'
  | 'gone'
  | 'short_gone'
  | 'timeout'
  | 'queue_poll'
  | 'queue_timeout'
  | 'other_plan'
  | 'takeover'
  | 'message_done';

const moves = fc.constantFrom<Move>(
  'slot',
  'capped',
  'none',
  'stasis',
  'answer',
  'gone',
  'short_gone',
  'timeout',
  'queue_poll',
  'queue_timeout',
  'other_plan',
  'takeover',
  'message_done',
);

const WAITING = new Set<CallState['phase']>(['routing', 'dialing', 'ringing', 'queued']);

describe('what the caller hears', () => {
  it('a caller waiting for a client hears ringing or music after every step, whatever happens', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<'campaign' | 'message' | null>('campaign', 'message', null),
        fc.array(moves, { maxLength: 40 }),
        (route, ms) => {
          const start = arrival();
          let s = start.state;
          let heard: CallerSound = start.effects.reduce(soundAfter, 'silence' as CallerSound);
          let at = 0;
          const apply = (e: CallEvent) => {
            const r = step(s, e);
            s = r.state;
            heard = r.effects.reduce(soundAfter, heard);
          };
          const check = (what: string) => {
            if (WAITING.has(s.phase))
              expect(['ringing', 'music'], `${what}: ${s.phase} hears ${heard}`).toContain(heard);
          };
          check('start');
          apply({ type: 'plan_loaded', plan: planOf('camp', route), at });
          check('plan');
          for (const m of ms) {
            if (s.phase === 'ended') break;
            const leg = s.attempts.at(-1)?.legId ?? 'none';
            at += m === 'gone' ? 100_000 : 1;
            if (m === 'slot') {
              const i = s.attempts.length;
              apply({
                type: 'attempt',
                linkId: `l${i % 4}`,
                clientId: `c${i % 4}`,
                legId: `leg-${i + 1}`,
                slot: {
                  linkId: `l${i % 4}`,
                  slotId: `leg-${i + 1}`,
                  buckets: { hour: 'h', day: 'd', month: 'm' },
                },
                endpoint: 'e',
                tried: [],
                at,
              });
            } else if (m === 'capped')
              apply({
                type: 'no_candidate',
                reason: 'no_client',
                refused: [{ linkId: 'l0', clientId: 'c0', reason: 'concurrency' }],
                at,
              });
            else if (m === 'none') apply({ type: 'no_candidate', reason: 'no_client', at });
            else if (m === 'stasis') apply({ type: 'leg_stasis_start', legId: leg, at });
            else if (m === 'answer') apply({ type: 'leg_answered', legId: leg, at });
            else if (m === 'gone' || m === 'short_gone')
              apply({ type: 'leg_gone', legId: leg, cause: 16, at });
            else if (m === 'timeout') apply({ type: 'ring_timeout', legId: leg, at });
            else if (m === 'queue_poll') apply({ type: 'queue_poll', at });
            else if (m === 'queue_timeout') apply({ type: 'queue_timeout', at });
            else if (m === 'other_plan')
              apply({ type: 'default_plan_loaded', plan: planOf('other', null), at });
            else if (m === 'takeover') apply({ type: 'resume', callerLive: true, lastSeen: at, at });
            else apply({ type: 'message_done', at });
            check(m);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
