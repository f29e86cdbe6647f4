// The CDR of a call, built from the call's outcome alone (pure): what the writer journals and
// inserts. One record per call, keyed by the call id, whatever path ended the call. The input is the
// CDR module's own type: the routing domain maps its call state to it, so the CDR shape does not
// follow routing's internals and routing can change its state without touching the CDR.
import { callMoney, type LinkMoney, wholeSeconds as seconds } from './money.ts';

export interface CdrRecord {
  call_id: string;
  node_id: string;
  seller_id: string | null;
  campaign_id: string | null;
  did: string | null;
  caller_number: string | null;
  client_id: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string;
  duration_s: number;
  billable_s: number;
  disposition: string;
  hangup_cause: number | null;
  attempts: unknown[];
  /** Links that took no part in the call and why (absent in journals written before it existed). */
  not_routed?: Array<{ link_id: string; client_id: string; reason: string }>;
  // Absent in journals written before money and names were recorded (the columns' defaults apply).
  link_id?: string | null;
  did_id?: string | null;
  seller_name?: string | null;
  campaign_name?: string | null;
  client_name?: string | null;
  talk_s?: number;
  converted?: boolean;
  payout_micros?: number;
  revenue_micros?: number;
  cost_micros?: number;
  /** The default route the call took (absent in journals written before it existed). */
  default_route?: string | null;
  /** How an answered call ended (absent in journals written before it existed). */
  end_reason?: string | null;
  /** When the call left our app for a dialplan context (absent in journals written before it existed). */
  handed_off_at?: string | null;
  /** The call's recording (absent in journals written before it existed). */
  recording_name?: string | null;
  recording_s?: number | null;
  /** The caller's channel id on the node (absent in journals written before it existed). */
  caller_channel_id?: string | null;
}

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
  /** The client's name and its link's money rules when the call was routed (absent: unknown). */
  clientName?: string;
  money?: LinkMoney;
  /**
   * Revenue recovery: the client hung up within its link's recovery window and the caller was sent
   * to the next link. The attempt counted as answered for the link's caps, and is never converted.
   */
  shortAnswer?: boolean;
}

/** What the CDR needs to know about a finished call. Times are epoch milliseconds. */
export interface CallOutcome {
  callId: string;
  nodeId: string;
  /** The caller's channel id on the node ('' or absent: not known). */
  callerChannelId?: string;
  sellerId: string | null;
  campaignId: string | null;
  /** Names as they were when the call was routed, and the DID's row. */
  sellerName?: string | null;
  campaignName?: string | null;
  didId?: string | null;
  /** The carrier's per-minute rate on the DID (micro-units); absent: no cost known. */
  didRatePerMinMicros?: number | null;
  did: string;
  callerNumber: string;
  startedAt: number;
  answeredAt?: number;
  /**
   * When we answered the caller (hold music, the default route's message, a client's answer): the
   * carrier bills its leg from then. Absent: taken as the first client answer.
   */
  callerAnsweredAt?: number | undefined;
  /** Absent when the call is written before it ended (the build time stands in). */
  endedAt?: number;
  /** Absent when the call ended on a path that set none: written as `error`. */
  disposition?: string;
  cause?: number;
  attempts: AttemptOutcome[];
  /** Links that took no part in the call, and why. */
  notRouted: Array<{ linkId: string; clientId: string; reason: string }>;
  /** The campaign's default route, when the call took it (`campaign:<id>`, `context:<name>`, `message`). */
  defaultRoute?: string | null;
  /** How an answered call ended: `caller_hangup`, `client_hangup`, or `max_length` (cut at the limit). */
  endReason?: string | null;
  /** When the call left our app for the default route's dialplan context. */
  handedOffAt?: number | null;
  /** The campaign's maximum call length (seconds from the client's answer): talk is billed up to it. */
  maxCallS?: number | null;
  /** The call's recording in Asterisk (stored recording name on the call's node) and its length. */
  recording?: { name: string; durationS: number } | null;
}

const iso = (t: number | undefined) => (t ? new Date(t).toISOString() : null);

export function cdrOf(s: CallOutcome, now: number): CdrRecord {
  const ended = s.endedAt ?? now;
  // The client the call ended with: the last attempt that answered (an earlier, short one is not it).
  const answered = s.attempts.findLast((a) => a.result === 'answered');
  // Money by the link's rules as routed; the carrier bills the caller's leg from our answer on.
  // Asterisk cuts the call at the maximum length; what it took to do so (ms) is not billed.
  const talked = answered?.answeredAt ? (answered.endedAt ?? ended) - answered.answeredAt : 0;
  const talkMs = s.maxCallS ? Math.min(talked, s.maxCallS * 1000) : talked;
  const rate = s.didRatePerMinMicros;
  // The carrier bills the caller's leg from its first answer: after a revenue recovery the caller
  // stays answered (hearing ringing) until the next client talks, so every client's minutes and the
  // ringing between them are billed — not only the last client's, whose answer is the call's.
  // It also bills the time the caller was answered before any client was: hold music, the default
  // route's message.
  const callerAnsweredAt = Math.min(
    s.callerAnsweredAt ?? Number.POSITIVE_INFINITY,
    s.answeredAt ?? Number.POSITIVE_INFINITY,
    ...s.attempts.map((a) => a.answeredAt ?? Number.POSITIVE_INFINITY),
  );
  const money = callMoney(
    seconds(talkMs),
    Number.isFinite(callerAnsweredAt) ? seconds(ended - callerAnsweredAt) : 0,
    // A short answer (the client hung up within revenue recovery's window) never converts.
    answered?.money
      ? answered.shortAnswer
        ? { ...answered.money, convertAfterS: null }
        : answered.money
      : null,
    rate !== null && rate !== undefined ? { ratePerMinMicros: rate } : null,
  );
  return {
    call_id: s.callId,
    node_id: s.nodeId,
    seller_id: s.sellerId,
    campaign_id: s.campaignId,
    did: s.did || null,
    caller_number: s.callerNumber || null,
    // A call taken over after a crash may not know its link or client (written as ''): unknown is null.
    client_id: answered?.clientId || null,
    link_id: answered?.linkId || null,
    did_id: s.didId ?? null,
    seller_name: s.sellerName ?? null,
    campaign_name: s.campaignName ?? null,
    client_name: answered?.clientName ?? null,
    talk_s: money.talkS,
    converted: money.converted,
    payout_micros: money.payoutMicros,
    revenue_micros: money.revenueMicros,
    cost_micros: money.costMicros,
    started_at: new Date(s.startedAt).toISOString(),
    answered_at: iso(s.answeredAt),
    ended_at: new Date(ended).toISOString(),
    duration_s: Math.max(0, Math.round((ended - s.startedAt) / 1000)),
    // The client's talk time as billed (its link's increment); without known rules, as talked.
    billable_s: answered?.money ? money.billableS : seconds(talkMs),
    disposition: s.disposition ?? 'error',
    hangup_cause: s.cause ?? null,
    not_routed: s.notRouted.map((r) => ({ link_id: r.linkId, client_id: r.clientId, reason: r.reason })),
    default_route: s.defaultRoute ?? null,
    end_reason: s.endReason ?? null,
    handed_off_at: iso(s.handedOffAt ?? undefined),
    recording_name: s.recording?.name ?? null,
    recording_s: s.recording ? s.recording.durationS : null,
    caller_channel_id: s.callerChannelId || null,
    attempts: s.attempts.map((a) => ({
      link_id: a.linkId,
      client_id: a.clientId,
      leg_id: a.legId,
      result: a.result ?? 'failed',
      started_at: new Date(a.startedAt).toISOString(),
      answered_at: iso(a.answeredAt),
      ended_at: iso(a.endedAt),
      ring_ms: (a.answeredAt ?? a.endedAt ?? ended) - a.startedAt,
      ...(a.shortAnswer ? { short_answer: true } : {}),
    })),
  };
}
