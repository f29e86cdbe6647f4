import { bigint, date, index, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

// Call totals kept as CDRs are written (in the statement that inserts them, see src/cdr/writer.ts),
// so a report adds up a few thousand rows instead of millions of calls. Each call is counted at three
// grains of its start time: a UTC quarter-hour ('q'), hour ('h') and day ('d'). Every IANA zone's
// offset is a whole number of quarter-hours, so any local hour or day is an exact union of buckets,
// and a report reads the coarsest grain that fits (src/reports/periods.ts). Ids a call did not have
// (no campaign, nobody answered) are the all-zero uuid: key columns cannot be null.

const sums = () => ({
  calls: bigint('calls', { mode: 'number' }).notNull().default(0),
  answered: bigint('answered', { mode: 'number' }).notNull().default(0),
  talkS: bigint('talk_s', { mode: 'number' }).notNull().default(0),
  billableS: bigint('billable_s', { mode: 'number' }).notNull().default(0),
  conversions: bigint('conversions', { mode: 'number' }).notNull().default(0),
  payoutMicros: bigint('payout_micros', { mode: 'number' }).notNull().default(0),
  revenueMicros: bigint('revenue_micros', { mode: 'number' }).notNull().default(0),
  costMicros: bigint('cost_micros', { mode: 'number' }).notNull().default(0),
});

/** Totals per grain, bucket and (seller, campaign, client, link): all groupings but the DID. */
export const reportLinkRollups = pgTable(
  'report_link_rollups',
  {
    grain: text('grain', { enum: ['q', 'h', 'd'] }).notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    sellerId: uuid('seller_id').notNull(),
    campaignId: uuid('campaign_id').notNull(),
    clientId: uuid('client_id').notNull(),
    linkId: uuid('link_id').notNull(),
    ...sums(),
  },
  (t) => [
    primaryKey({ columns: [t.grain, t.bucket, t.sellerId, t.campaignId, t.clientId, t.linkId] }),
    index('report_link_rollups_seller_idx').on(t.sellerId, t.grain, t.bucket),
  ],
);

/** Totals per grain, bucket and (seller, campaign, DID): the DID grouping and the rent spread. */
export const reportDidRollups = pgTable(
  'report_did_rollups',
  {
    grain: text('grain', { enum: ['q', 'h', 'd'] }).notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    sellerId: uuid('seller_id').notNull(),
    campaignId: uuid('campaign_id').notNull(),
    did: text('did').notNull(),
    ...sums(),
  },
  (t) => [
    primaryKey({ columns: [t.grain, t.bucket, t.sellerId, t.campaignId, t.did] }),
    index('report_did_rollups_seller_idx').on(t.sellerId, t.grain, t.bucket),
  ],
);

/** Calls per DID and UTC month: what a DID's monthly rent is spread over. */
export const reportDidMonths = pgTable(
  'report_did_months',
  {
    did: text('did').notNull(),
    month: date('month').notNull(),
    calls: bigint('calls', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.did, t.month] })],
);

/** The latest name a CDR gave each seller, campaign and client (reports label ids with them). */
export const reportNames = pgTable(
  'report_names',
  {
    kind: text('kind', { enum: ['seller', 'campaign', 'client'] }).notNull(),
    id: uuid('id').notNull(),
    name: text('name').notNull(),
  },
  (t) => [primaryKey({ columns: [t.kind, t.id] })],
);
