// Routing's side of the CDR: the call's final state mapped to the CDR module's input, so the CDR
// builder never reads routing's state (which changes as routing grows) and routing chooses what
// of its state a CDR records.
import type { CallOutcome } from '../cdr/record.ts';
import type { CallState } from './call.ts';

export function outcomeOf(s: CallState): CallOutcome {
  const links = new Map(s.plan?.links.map((l) => [l.linkId, l]));
  return {
    callId: s.callId,
    nodeId: s.nodeId,
    callerChannelId: s.callerChannelId,
    sellerId: s.plan?.sellerId ?? null,
    // The DID's own campaign, also when a default route sent the call to another one.
    campaignId: s.homeCampaignId ?? s.plan?.campaign?.id ?? null,
    sellerName: s.plan?.sellerName ?? null,
    campaignName: s.plan?.campaign?.name ?? null,
    didId: s.plan?.didId ?? null,
    didRatePerMinMicros: s.plan?.didRatePerMinMicros ?? null,
    did: s.did,
    callerNumber: s.callerNumber,
    startedAt: s.startedAt,
    answeredAt: s.answeredAt,
    callerAnsweredAt: s.callerAnsweredAt,
    endedAt: s.endedAt,
    disposition: s.disposition,
    cause: s.cause,
    attempts: s.attempts.map((a) => ({
      linkId: a.linkId,
      clientId: a.clientId,
      legId: a.legId,
      startedAt: a.startedAt,
      answeredAt: a.answeredAt,
      endedAt: a.endedAt,
      result: a.result,
      clientName: links.get(a.linkId)?.clientName,
      money: links.get(a.linkId)?.money,
      ...(a.shortAnswer ? { shortAnswer: true } : {}),
    })),
    defaultRoute: s.defaultRoute ?? null,
    endReason: s.endReason ?? null,
    handedOffAt: s.handedOffAt ?? null,
    maxCallS: s.plan?.campaign?.maxCallS ?? null,
    notRouted: s.refused.map((r) => ({ linkId: r.linkId, clientId: r.clientId, reason: r.reason })),
  };
}
