import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';

// Sellers send calls (lead generators); clients (call centres) buy them. A campaign belongs to one
// seller and is linked to clients with caps; DIDs route to a campaign.

/**
 * The caps a traffic source (seller, DID) or a buyer group may carry beside a link's: the same five
 * kinds, each optional (null = no cap). Concurrency counts calls being dialled or bridged; the others
 * count answered calls per hour, day and month (in the owner's zone) and ever.
 */
const capColumns = () => ({
  concurrencyCap: integer('concurrency_cap'),
  hourlyCap: integer('hourly_cap'),
  dailyCap: integer('daily_cap'),
  monthlyCap: integer('monthly_cap'),
  totalCap: integer('total_cap'),
});

export const sellers = pgTable('sellers', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  active: boolean('active').notNull().default(true),
  ...capColumns(),
  // Archived (null: not): the seller routes nothing and is out of pick lists and default lists, but
  // keeps every row that names it (calls, reports, numbers), which is why it cannot be deleted.
  archivedAt: timestamp('archived_at', { withTimezone: true }),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Open hours per weekday (0 = Sunday), each a list of [from, to) "HH:MM" ranges in the client's zone. */
export type WeeklySchedule = Partial<
  Record<'0' | '1' | '2' | '3' | '4' | '5' | '6', Array<[string, string]>>
>;

/**
 * A buyer group: clients that are one company (a call-centre company with several sites), with caps
 * shared by all of them on top of each client's own. Its hour/day/month buckets are in its zone.
 */
export const buyerGroups = pgTable('buyer_groups', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  timezone: text('timezone'),
  ...capColumns(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Concurrency per hour of the week, in the client's zone: per weekday (0 = Sunday) 24 entries, one per
 * hour from 00:00; a number is the concurrency cap for that hour, null (or a weekday left out) falls
 * back to the link's `concurrency_cap`.
 */
export type HourlyConcurrency = Partial<
  Record<'0' | '1' | '2' | '3' | '4' | '5' | '6', Array<number | null>>
>;

export const clients = pgTable('clients', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  // A PJSIP endpoint name (dialled as PJSIP/<endpoint>) or a full dial string (PJSIP/1234@trunk).
  endpoint: text('endpoint').notNull(),
  active: boolean('active').notNull().default(true),
  timezone: text('timezone'),
  schedule: jsonb('schedule').$type<WeeklySchedule>(),
  groupId: uuid('group_id').references(() => buyerGroups.id),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** What a link's hourly/daily/monthly/total caps count: answered calls, or converted ones. */
export const CAP_COUNTS = ['answered', 'converted'] as const;

/**
 * Where a campaign sends a call when every link is capped, closed or off: another campaign of the
 * same seller (its links, once), a dialplan context (the call leaves our app there), or a recorded
 * message played to the caller before hanging up.
 */
export type DefaultRoute =
  | { kind: 'campaign'; campaign_id: string }
  | { kind: 'context'; context: string; extension?: string | undefined; priority?: number | undefined }
  | { kind: 'message'; media: string[] };

export const ROUTING_STRATEGIES = ['priority', 'round_robin', 'weighted'] as const;
export const DUP_POLICIES = ['same_client', 'reject'] as const;

export const campaigns = pgTable(
  'campaigns',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => sellers.id),
    name: text('name').notNull(),
    strategy: text('strategy', { enum: ROUTING_STRATEGIES }).notNull().default('priority'),
    ringTimeoutS: integer('ring_timeout_s').notNull().default(30),
    maxAttempts: integer('max_attempts').notNull().default(3),
    dupWindowH: integer('dup_window_h'),
    dupPolicy: text('dup_policy', { enum: DUP_POLICIES }).notNull().default('same_client'),
    // Caller filters, all off by default: refuse callers without a number, a caller calling again
    // within N seconds (of its previous call's arrival), callers on the seller's or the global
    // blocklist, and callers whose number is not from one of these places ("US", "US-NY", "CA-ON").
    rejectAnonymous: boolean('reject_anonymous').notNull().default(false),
    repeatWindowS: integer('repeat_window_s'),
    useBlocklist: boolean('use_blocklist').notNull().default(false),
    callerRegions: text('caller_regions').array(),
    defaultRoute: jsonb('default_route').$type<DefaultRoute>(),
    // Revenue recovery: how many times one call may be sent on after a short answer (0 to 5).
    maxReroutes: integer('max_reroutes').notNull().default(1),
    // Hold queue (off when null): when every eligible link is at its concurrency cap, the caller hears
    // music on hold for up to this many seconds while slots are retried, first come first served.
    queueS: integer('queue_s'),
    // Maximum call length (off when null): seconds from the client's answer, enforced by Asterisk
    // itself (TIMEOUT(absolute) on both channels), so it holds if the daemon dies mid-call.
    maxCallS: integer('max_call_s'),
    // Call recording (off by default): the bridge of caller and client is recorded in Asterisk.
    recordCalls: boolean('record_calls').notNull().default(false),
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('campaigns_seller_name_uq').on(t.sellerId, t.name),
    check('campaigns_repeat_window_ck', sql`${t.repeatWindowS} between 1 and 604800`),
    check('campaigns_max_reroutes_ck', sql`${t.maxReroutes} between 0 and 5`),
    check('campaigns_queue_ck', sql`${t.queueS} between 1 and 3600`),
    check('campaigns_max_call_ck', sql`${t.maxCallS} between 1 and 86400`),
    check('campaigns_ring_timeout_ck', sql`${t.ringTimeoutS} between 1 and 600`),
    check('campaigns_max_attempts_ck', sql`${t.maxAttempts} between 1 and 20`),
  ],
);

export const dids = pgTable(
  'dids',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    number: text('number').notNull().unique(), // E.164, normalised
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => sellers.id),
    campaignId: uuid('campaign_id').references(() => campaigns.id),
    ...capColumns(),
    // Carrier cost, in micro-units (see src/cdr/money.ts): per minute of answered inbound call, and
    // the number's monthly rent (spread over its calls by the reports).
    ratePerMinMicros: bigint('rate_per_min_micros', { mode: 'number' }).notNull().default(0),
    monthlyRentMicros: bigint('monthly_rent_micros', { mode: 'number' }).notNull().default(0),
    // A number switched off takes no call (its CDR says `did_inactive`) and keeps its campaign.
    active: boolean('active').notNull().default(true),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('dids_seller_idx').on(t.sellerId), index('dids_campaign_idx').on(t.campaignId)],
);

/**
 * What a DID's monthly rent was, and since when (a trigger on `dids` adds a row whenever a number's
 * rent is set or changed, whoever changes it): the reports spread each month's rent as it was then,
 * so changing a rent today does not rewrite past months. A number's first row applies from the
 * epoch (nothing earlier is known); keyed by number, as calls and rollups are.
 */
export const didRents = pgTable(
  'did_rents',
  {
    did: text('did').notNull(),
    effectiveFrom: timestamp('effective_from', { withTimezone: true }).notNull(),
    monthlyRentMicros: bigint('monthly_rent_micros', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.did, t.effectiveFrom] })],
);

export const links = pgTable(
  'campaign_links',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    campaignId: uuid('campaign_id')
      .notNull()
      .references(() => campaigns.id),
    clientId: uuid('client_id')
      .notNull()
      .references(() => clients.id),
    concurrencyCap: integer('concurrency_cap'),
    hourlyCap: integer('hourly_cap'),
    dailyCap: integer('daily_cap'),
    monthlyCap: integer('monthly_cap'),
    totalCap: integer('total_cap'),
    concurrencySchedule: jsonb('concurrency_schedule').$type<HourlyConcurrency>(),
    priority: integer('priority').notNull().default(0),
    weight: integer('weight').notNull().default(1),
    active: boolean('active').notNull().default(true),
    // Revenue recovery (off when null): a client hanging up within this many seconds of answering
    // sends the caller, still on the line hearing ringing, to the next eligible link.
    recoveryS: integer('recovery_s'),
    // Answered calls ever taken through this link: the durable copy of Redis' total counter.
    totalAnswered: bigint('total_answered', { mode: 'number' }).notNull().default(0),
    capsCount: text('caps_count', { enum: CAP_COUNTS }).notNull().default('answered'),
    // Money (src/cdr/money.ts): a call converts at this many talk seconds (null: never); a converted
    // call owes the seller the payout and is charged to the client as revenue (micro-units).
    convertAfterS: integer('convert_after_s'),
    payoutMicros: bigint('payout_micros', { mode: 'number' }).notNull().default(0),
    revenueMicros: bigint('revenue_micros', { mode: 'number' }).notNull().default(0),
    // How the client's talk time is billed: "first/next" seconds ("1/1", "6/6", "60/60").
    billingIncrement: text('billing_increment').notNull().default('1/1'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('links_campaign_client_uq').on(t.campaignId, t.clientId),
    index('links_client_idx').on(t.clientId),
    check('links_weight_ck', sql`${t.weight} between 1 and 10000`),
    check('links_recovery_ck', sql`${t.recoveryS} between 1 and 600`),
    check('links_money_ck', sql`${t.payoutMicros} >= 0 and ${t.revenueMicros} >= 0`),
  ],
);

export const CAP_OWNER_KINDS = ['seller', 'did', 'group'] as const;

/**
 * Answered calls ever counted against a seller's, DID's or buyer group's caps: the durable copy of
 * Redis' total counter (a link keeps its own in `campaign_links.total_answered`), written in batches,
 * read to seed Redis when it has none. No foreign key: the owners live in three tables, and a row of
 * a deleted owner is harmless.
 */
export const capTotals = pgTable(
  'routing_cap_totals',
  {
    ownerKind: text('owner_kind', { enum: CAP_OWNER_KINDS }).notNull(),
    ownerId: uuid('owner_id').notNull(),
    totalAnswered: bigint('total_answered', { mode: 'number' }).notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.ownerKind, t.ownerId] })],
);

/**
 * Batches of answered totals already added to `campaign_links.total_answered` and
 * `routing_cap_totals`: a batch is applied in one transaction with its id inserted here, so a batch
 * replayed after a crash (applied, but not yet deleted from Redis) is not counted twice. Rows older
 * than a day are pruned (a batch is deleted from Redis seconds after it is applied).
 */
export const totalBatches = pgTable(
  'routing_total_batches',
  {
    id: text('id').primaryKey(),
    appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
    // When Redis made the batch (its clock): the batch holds the answers counted before that moment
    // and after the batch made before it. Null in batches of daemons older than this column. A row
    // `start:<uuid>` with no counts marks a daemon's start: answers since carry their slot ids.
    cutOff: timestamp('cut_off', { withTimezone: true }),
  },
  (t) => [index('routing_total_batches_applied_idx').on(t.appliedAt)],
);

/**
 * The slots whose answer is in the persisted totals (each applied batch lists its slots): after Redis
 * lost the answers waiting for PostgreSQL, the answered attempts of the CDRs (and the live calls)
 * whose slot is not here are the ones lost, and are counted again, each once, by inserting it here in
 * the same transaction. Pruned with the batches after a day.
 */
export const countedAnswers = pgTable(
  'routing_counted_answers',
  {
    slotId: text('slot_id').primaryKey(),
    appliedAt: timestamp('applied_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('routing_counted_answers_applied_idx').on(t.appliedAt)],
);

// Caller numbers refused on campaigns that use the blocklist: a seller's own (seller_id set) and the
// global list (seller_id null) that applies to every seller.
export const callerBlocks = pgTable(
  'caller_blocks',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sellerId: uuid('seller_id').references(() => sellers.id, { onDelete: 'cascade' }),
    number: text('number').notNull(), // E.164, normalised
    note: text('note'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One entry per number per list; the global list is the null seller (NULLS NOT DISTINCT).
    unique('caller_blocks_seller_number_uq').on(t.sellerId, t.number).nullsNotDistinct(),
    index('caller_blocks_number_idx').on(t.number),
  ],
);
