// Hand-built inputs of the call state machine (src/routing/call.ts) for its unit tests: a call that
// just arrived, a plan's campaign and links, the plan loaded into the call. Every field a test does
// not name gets one neutral value here (no caps, no filters, priority order, three attempts), so a
// test spells out only what it is about and the defaults cannot drift apart between files.
import { type CallState, type Effect, type NewCall, newCall, step } from '../../src/routing/call.ts';
import type { RouteLink, RoutePlan } from '../../src/routing/catalog.ts';

export type PlanCampaign = NonNullable<RoutePlan['campaign']>;

/** A call arriving on +15550001111 from +12125550100 at 0 (caller channel `caller`, node n1). */
export function arrival(c: Partial<NewCall> = {}): { state: CallState; effects: Effect[] } {
  return newCall({
    callId: 'call-1',
    callerChannelId: 'caller',
    nodeId: 'n1',
    app: 'capconduit',
    did: '+15550001111',
    callerNumber: '+12125550100',
    startedAt: 0,
    ...c,
  });
}

/** Caps that limit nothing (override one to test it). */
export const noCaps = (): RouteLink['caps'] => ({
  concurrency: null,
  hourly: null,
  daily: null,
  monthly: null,
  total: null,
});

/** Link `i` of a plan: l<i> to client c<i> at endpoint e<i>, priority i, weight 1, active, no caps. */
export function planLink(i: number, l: Partial<RouteLink> = {}): RouteLink {
  return {
    active: true,
    linkId: `l${i}`,
    clientId: `c${i}`,
    endpoint: `e${i}`,
    timezone: null,
    schedule: null,
    priority: i,
    weight: 1,
    caps: noCaps(),
    totalAnswered: 0,
    ...l,
  };
}

/** An active campaign `camp`: priority order, 30 s ring, 3 attempts, no duplicate rule. */
export function planCampaign(c: Partial<PlanCampaign> = {}): PlanCampaign {
  return {
    id: 'camp',
    active: true,
    strategy: 'priority',
    ringTimeoutS: 30,
    maxAttempts: 3,
    dupWindowH: null,
    dupPolicy: 'same_client',
    ...c,
  };
}

/** The plan of +15550001111 (seller s1): that campaign and those links. */
export function planOf(campaign: PlanCampaign | null, links: RouteLink[] = []): RoutePlan {
  return { did: '+15550001111', sellerId: 's1', campaign, links };
}

/** The call once its plan is loaded at `at`: the next state and the effects the load asks for. */
export function loaded(state: CallState, plan: RoutePlan, at = 0): { state: CallState; effects: Effect[] } {
  return step(state, { type: 'plan_loaded', plan, at });
}
