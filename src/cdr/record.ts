// The CDR of a routed call, built from the call's final state alone (pure): what the writer journals
// and inserts. One record per call, keyed by the call id, whatever path ended the call.
import type { CallState } from '../routing/call.ts';
import type { CdrRecord } from './writer.ts';

const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);

export function cdrOf(s: CallState, now: number): CdrRecord {
  const ended = s.endedAt ?? now;
  const answered = s.attempts.find((a) => a.result === 'answered');
  return {
    call_id: s.callId,
    node_id: s.nodeId,
    seller_id: s.plan?.sellerId ?? null,
    campaign_id: s.plan?.campaign?.id ?? null,
    did: s.did || null,
    caller_number: s.callerNumber || null,
    client_id: answered?.clientId ?? null,
    started_at: new Date(s.startedAt).toISOString(),
    answered_at: iso(s.answeredAt),
    ended_at: new Date(ended).toISOString(),
    duration_s: Math.max(0, Math.round((ended - s.startedAt) / 1000)),
    billable_s: s.answeredAt ? Math.max(0, Math.round((ended - s.answeredAt) / 1000)) : 0,
    disposition: s.disposition ?? 'error',
    hangup_cause: s.cause ?? null,
    not_routed: s.refused.map((r) => ({ link_id: r.linkId, client_id: r.clientId, reason: r.reason })),
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
}
