import { sql } from 'drizzle-orm';
import { bigint, boolean, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export interface CdrAttempt {
  link_id: string;
  client_id: string;
  leg_id: string;
  result: string;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  ring_ms: number;
}

export interface CdrRefusal {
  link_id: string;
  client_id: string;
  /** inactive | closed (schedule) | concurrency | hourly | daily | monthly | total | duplicate | waiting
   *  (callers who came first waited for the link), or `<seller|did|group>_<cap>` */
  reason: string;
}

// One row per inbound call, keyed by our call id so a replayed write is a no-op.
export const callRecords = pgTable(
  'call_records',
  {
    callId: text('call_id').primaryKey(),
    nodeId: text('node_id').notNull(),
    sellerId: uuid('seller_id'),
    campaignId: uuid('campaign_id'),
    did: text('did'),
    callerNumber: text('caller_number'),
    clientId: uuid('client_id'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    answeredAt: timestamp('answered_at', { withTimezone: true }),
    endedAt: timestamp('ended_at', { withTimezone: true }).notNull(),
    durationS: integer('duration_s').notNull(),
    billableS: integer('billable_s').notNull(),
    disposition: text('disposition').notNull(),
    hangupCause: integer('hangup_cause'),
    attempts: jsonb('attempts').$type<CdrAttempt[]>().notNull(),
    notRouted: jsonb('not_routed').$type<CdrRefusal[]>().notNull().default([]),
    // The link that answered, the DID's row, and the names as they were at call time.
    linkId: uuid('link_id'),
    didId: uuid('did_id'),
    sellerName: text('seller_name'),
    campaignName: text('campaign_name'),
    clientName: text('client_name'),
    // Money (src/cdr/money.ts): talk seconds with the client, conversion, micro-units.
    talkS: integer('talk_s').notNull().default(0),
    converted: boolean('converted').notNull().default(false),
    payoutMicros: bigint('payout_micros', { mode: 'number' }).notNull().default(0),
    revenueMicros: bigint('revenue_micros', { mode: 'number' }).notNull().default(0),
    costMicros: bigint('cost_micros', { mode: 'number' }).notNull().default(0),
    // The campaign's default route when the call took it: `campaign:<id>`, `context:<context>`, `message`.
    defaultRoute: text('default_route'),
    // How an answered call ended: caller_hangup, client_hangup, max_length (the campaign's limit cut it).
    endReason: text('end_reason'),
    // A default route to a dialplan context: when the caller left our app for it (the call, and the
    // carrier's billing, go on there until the caller hangs up, which ended_at says).
    handedOffAt: timestamp('handed_off_at', { withTimezone: true }),
    // The call's recording in Asterisk (stored recording name on node_id) and its length; deleted_at
    // once the retention purge deleted it there.
    recordingName: text('recording_name'),
    recordingS: integer('recording_s'),
    recordingDeletedAt: timestamp('recording_deleted_at', { withTimezone: true }),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
    // The caller's channel in Asterisk (its uniqueid on node_id): how Asterisk's own CDR of a caller is
    // told from one of a call we recorded (src/routing/unseen.ts). Null when no caller was known.
    callerChannelId: text('caller_channel_id'),
  },
  (t) => [
    index('call_records_started_idx').on(t.startedAt),
    index('call_records_seller_started_idx').on(t.sellerId, t.startedAt),
    index('call_records_campaign_started_idx').on(t.campaignId, t.startedAt),
    // The recordings the retention purge has yet to delete from Asterisk, oldest first.
    index('call_records_recording_started_idx')
      .on(t.startedAt)
      .where(sql`${t.recordingName} is not null and ${t.recordingDeletedAt} is null`),
    index('call_records_caller_channel_idx')
      .on(t.callerChannelId)
      .where(sql`${t.callerChannelId} is not null`),
  ],
);

// How far the read-back of Asterisk's own CDRs has got on each node (src/routing/unseen.ts): the
// next pass starts here (less an overlap), across restarts and instances, so a long outage of every
// instance is covered whole, and records from before the first pass ever are never read.
export const unseenCallSweeps = pgTable('unseen_call_sweeps', {
  nodeId: text('node_id').primaryKey(),
  sweptTo: timestamp('swept_to', { withTimezone: true }).notNull(),
});
