// The call records API's query and response shapes (zod), and a record as the API shows it.
import { z } from 'zod';
import { timestamp } from '../platform/http/input.ts';
import type { CallRecordView } from './repository.ts';

export const callsQuery = z.object({
  from: timestamp.optional(),
  to: timestamp.optional(),
  campaign_id: z.uuid().optional(),
  client_id: z.uuid().optional(),
  did: z.string().max(20).optional(),
  caller: z.string().max(32).optional(),
  disposition: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: z.string().max(200).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
export const callRecordOut = z.object({
  call_id: z.string(),
  node_id: z.string(),
  seller_id: z.string().nullable(),
  campaign_id: z.string().nullable(),
  did: z.string().nullable(),
  caller_number: z.string().nullable(),
  client_id: z.string().nullable(),
  started_at: z.string(),
  answered_at: z.string().nullable(),
  ended_at: z.string(),
  duration_s: z.number(),
  billable_s: z.number(),
  disposition: z.string(),
  hangup_cause: z.number().nullable(),
  attempts: z.array(z.record(z.string(), z.unknown())),
  /** Links that took no part in the call, and why: what `no_client` alone does not say. */
  not_routed: z.array(z.object({ link_id: z.string(), client_id: z.string(), reason: z.string() })),
  link_id: z.string().nullable(),
  did_id: z.string().nullable(),
  /** Names as they were when the call was routed. */
  seller_name: z.string().nullable(),
  campaign_name: z.string().nullable(),
  client_name: z.string().nullable(),
  talk_s: z.number(),
  converted: z.boolean(),
  /** Micro-units (millionths of the currency unit). Revenue and cost are shown to staff only. */
  payout_micros: z.number(),
  revenue_micros: z.number().nullable(),
  cost_micros: z.number().nullable(),
  /**
   * The call's share of its DID's monthly rent: the rent its UTC month ended with, divided by the
   * DID's calls that month (as the reports spread it; final once the month is over, falling as calls
   * arrive until then), rounded to the micro. Staff only.
   */
  rent_micros: z.number().nullable(),
  /** revenue − payout − cost − rent: what the call left the operator. Staff only. */
  margin_micros: z.number().nullable(),
  /** The campaign's default route when the call took it: `campaign:<id>`, `context:<name>`, `message`. */
  default_route: z.string().nullable(),
  /** How an answered call ended: `caller_hangup`, `client_hangup`, `max_length` (cut at the campaign's limit). */
  end_reason: z.string().nullable(),
  /**
   * A default route to a dialplan context: when the caller left our app for it. The call went on
   * there: `ended_at` and `duration_s` run to the caller's hangup, and carrier cost with them.
   */
  handed_off_at: z.string().nullable(),
  /**
   * The call's recording (campaigns with `record_calls`): its name in Asterisk and length in seconds,
   * fetched with GET /v1/calls/{id}/recording; `recording_deleted_at` once retention deleted it.
   */
  recording_name: z.string().nullable(),
  recording_s: z.number().nullable(),
  recording_deleted_at: z.string().nullable(),
});
/** A record as the API shows it; `staff` false (a seller's key) leaves out revenue, cost, rent and margin. */
export const toCallRecord = (r: CallRecordView, staff = true) => ({
  call_id: r.callId,
  node_id: r.nodeId,
  seller_id: r.sellerId,
  campaign_id: r.campaignId,
  did: r.did,
  caller_number: r.callerNumber,
  client_id: r.clientId,
  started_at: r.startedAt.toISOString(),
  answered_at: r.answeredAt?.toISOString() ?? null,
  ended_at: r.endedAt.toISOString(),
  duration_s: r.durationS,
  billable_s: r.billableS,
  disposition: r.disposition,
  hangup_cause: r.hangupCause,
  attempts: r.attempts as unknown as Record<string, unknown>[],
  not_routed: r.notRouted,
  link_id: r.linkId,
  did_id: r.didId,
  seller_name: r.sellerName,
  campaign_name: r.campaignName,
  client_name: r.clientName,
  talk_s: r.talkS,
  converted: r.converted,
  payout_micros: r.payoutMicros,
  revenue_micros: staff ? r.revenueMicros : null,
  cost_micros: staff ? r.costMicros : null,
  rent_micros: staff ? Math.round(r.rentMicros) : null,
  margin_micros: staff ? r.revenueMicros - r.payoutMicros - r.costMicros - Math.round(r.rentMicros) : null,
  default_route: r.defaultRoute,
  end_reason: r.endReason,
  handed_off_at: r.handedOffAt?.toISOString() ?? null,
  recording_name: r.recordingName,
  recording_s: r.recordingS,
  recording_deleted_at: r.recordingDeletedAt?.toISOString() ?? null,
});
