// The CDR of a call, built from the call's outcome alone (pure): what the writer journals and
// inserts. One record per call, keyed by the call id, whatever path ended the call. The input is the
// CDR module's own type: the routing domain maps its call state to it, so the CDR shape does not
// follow routing's internals and routing can change its state without touching the CDR.
import type { CdrRecord } from './writer.ts';

/** One client leg tried for the call. Times are epoch milliseconds. */
export interface AttemptOutcome {
  linkId: string;
  clientId: string;
  legId: string;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  /** How the leg ended; a leg with none recorded counts as failed. */
  result?: string;
}

/** What the CDR needs to know about a finished call. Times are epoch milliseconds. */
export interface CallOutcome {
  callId: string;
  nodeId: string;
  sellerId: string | null;
  campaignId: string | null;
  did: string;
  callerNumber: string;
  startedAt: number;
  answeredAt?: number;
  /** Absent when the call is written before it ended (the build time stands in). */
  endedAt?: number;
  /** Absent when the call ended on a path that set none: written as `error`. */
  disposition?: string;
  cause?: number;
  attempts: AttemptOutcome[];
  /** Links that took no part in the call, and why. */
  notRouted: Array<{ linkId: string; clientId: string; reason: string }>;
}

const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);

export function cdrOf(s: CallOutcome, now: number): CdrRecord {
  const ended = s.endedAt ?? now;
  const answered = s.attempts.find((a) => a.result === 'answered');
  return {
    call_id: s.callId,
    node_id: s.nodeId,
    seller_id: s.sellerId,
    campaign_id: s.campaignId,
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
    not_routed: s.notRouted.map((r) => ({ link_id: r.linkId, client_id: r.clientId, reason: r.reason })),
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
