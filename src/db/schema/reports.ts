import {
  bigint,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';

// Call totals kept as CDRs are written (in the transaction that inserts them, see src/cdr/writer.ts
// and src/reports/rollup.ts), so a report adds up thousands of rows instead of millions of calls.
// Time buckets are UTC quarter-hours ('q'), hours ('h') and days ('d') of the call's start. Every IANA
// zone's offset is a whole number of quarter-hours, so any local hour or day is an exact union of
// buckets, and a report reads the coarsest grain that fits (src/reports/periods.ts). Ids a call did
// not have (no campaign, nobody answered) are the all-zero uuid: key columns cannot be null.
// docs/money-and-reports.md says which report reads which table.

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

/**
 * Totals per grain, bucket, seller and campaign (all three grains): the reports by seller, campaign,
 * hour and day. Few keys per bucket, so a local day in a half-hour zone (23 hours and two
 * quarter-hours of every campaign) stays a small read.
 */
export const reportCampaignRollups = pgTable(
  'report_campaign_rollups',
  {
    grain: text('grain', { enum: ['q', 'h', 'd'] }).notNull(),
    bucket: timestamp('bucket', { withTimezone: true }).notNull(),
    sellerId: uuid('seller_id').notNull(),
    campaignId: uuid('campaign_id').notNull(),
    ...sums(),
  },
  (t) => [
    primaryKey({ columns: [t.grain, t.bucket, t.sellerId, t.campaignId] }),
    index('report_campaign_rollups_seller_idx').on(t.sellerId, t.grain, t.bucket),
    index('report_campaign_rollups_campaign_idx').on(t.campaignId, t.grain, t.bucket),
  ],
);

/**
 * Totals per grain, bucket and (seller, campaign, client, link), hours and days only: the reports by
 * client and link. Those have no local boundaries inside the period, so quarter-hours are needed only
 * at its two ends, and are summed from the calls themselves (a quarter-hour row per link would be
 * most of the writes and rows for a few thousand calls read).
 */
export const reportLinkRollups = pgTable(
  'report_link_rollups',
  {
    grain: text('grain', { enum: ['h', 'd'] }).notNull(),
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

/** Totals per grain, bucket and (seller, campaign, DID), hours and days only (as links): by DID. */
export const reportDidRollups = pgTable(
  'report_did_rollups',
  {
    grain: text('grain', { enum: ['h', 'd'] }).notNull(),
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

/**
 * A DID's calls per UTC day (and seller, campaign), as 97 running counts: `calls[i + 1]` is the
 * number that started in the day's first i quarter-hours, so the calls of any quarter-aligned part
 * of the day are one subtraction. What the rent spread reads: a DID's rent share differs per DID and
 * month, so rent by local hour or day needs each DID's calls in each of them, and this gives them
 * from one row per DID and day in every zone.
 */
export const reportDidDays = pgTable(
  'report_did_days',
  {
    day: date('day').notNull(),
    sellerId: uuid('seller_id').notNull(),
    campaignId: uuid('campaign_id').notNull(),
    did: text('did').notNull(),
    calls: integer('calls').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.day, t.sellerId, t.campaignId, t.did] })],
);

/**
 * A DID's calls per UTC month (and seller, campaign), as 32 running counts: `calls[i + 1]` is the
 * number that started in the month's first i days (entries past a short month's end repeat its
 * total). The rent spread reads whole days from here, so a period of whole days costs one row per
 * DID and month instead of one per DID and day; only part-days at a period's or a label's ends read
 * `report_did_days`.
 */
export const reportDidMonthDays = pgTable(
  'report_did_month_days',
  {
    month: date('month').notNull(),
    sellerId: uuid('seller_id').notNull(),
    campaignId: uuid('campaign_id').notNull(),
    did: text('did').notNull(),
    calls: integer('calls').array().notNull(),
  },
  (t) => [primaryKey({ columns: [t.month, t.sellerId, t.campaignId, t.did] })],
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
