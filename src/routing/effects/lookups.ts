// Performers of the look-ups a routing decision waits for: the DID's plan (PostgreSQL, through the
// catalog), the duplicate-caller rule and the caller screen (Redis). Each answers with the event
// that carries what it found; a failure becomes `no_candidate` (the runner's onFailure).
import type { CallEvent } from '../call.ts';
import type { EffectContext, EffectOf } from './runtime.ts';

export type LookupEffect = EffectOf<
  'load_plan' | 'load_default_campaign' | 'check_duplicate' | 'screen_caller'
>;

export async function performLookup(ctx: EffectContext, fx: LookupEffect): Promise<CallEvent | null> {
  const d = ctx.d;
  switch (fx.type) {
    case 'load_plan':
      return { type: 'plan_loaded', plan: await d.catalog.plan(fx.did), at: d.now() };
    case 'check_duplicate':
      return {
        type: 'duplicate_checked',
        lastClient: await d.slots.lastClientOf(fx.campaignId, fx.callerNumber),
        at: d.now(),
      };
    case 'screen_caller': {
      const blocked = fx.blocklist && (await d.screen.blocked(fx.sellerId, fx.callerNumber));
      const refused = blocked
        ? 'blocked'
        : fx.repeatWindowS && (await d.screen.repeated(fx.campaignId, fx.callerNumber, fx.repeatWindowS))
          ? 'repeat'
          : null;
      return { type: 'caller_screened', refused, at: d.now() };
    }
    case 'load_default_campaign':
      return {
        type: 'default_plan_loaded',
        plan: await d.catalog.planVia(fx.did, fx.campaignId),
        at: d.now(),
      };
  }
}
