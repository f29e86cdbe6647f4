// DID provisioning: carrier accounts (credentials sealed), groups (a seller at a carrier, with its
// subaccount), the numbers bought (kept after release as history), batch jobs with one row per item,
// and webhook subscriptions with their delivery log.
import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  real,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { dids, sellers } from './routing.ts';

export const PROVIDER_KINDS = ['vonage'] as const;

export const providerAccounts = pgTable('provider_accounts', {
  id: uuid('id').primaryKey().defaultRandom(),
  name: text('name').notNull().unique(),
  provider: text('provider', { enum: PROVIDER_KINDS }).notNull(),
  restUrl: text('rest_url').notNull(),
  apiUrl: text('api_url').notNull(),
  // Sealed JSON {apiKey, apiSecret} (src/provisioning/sealed.ts); never leaves the daemon.
  credentials: text('credentials').notNull(),
  // Carrier requests per second and items in flight for this account, across every instance.
  ratePerS: real('rate_per_s').notNull().default(2),
  concurrency: integer('concurrency').notNull().default(2),
  timeoutMs: integer('timeout_ms').notNull().default(10_000),
  // Make a subaccount per group (false: every number stays on the primary account).
  useSubaccounts: boolean('use_subaccounts').notNull().default(true),
  // Where the carrier's calls come from: the Asterisk trunk identifies the carrier by these.
  signallingCidrs: text('signalling_cidrs').array().notNull().default(sql`'{}'::text[]`),
  trunkEndpoint: text('trunk_endpoint'),
  // Default voice routing of bought numbers: {type, value}, `{e164}` in value is the number.
  voice: jsonb('voice').$type<{ type: 'sip' | 'tel' | 'app'; value: string } | null>(),
  // A disabled account takes no new work (searches, jobs, reconcile); its unfinished jobs' items wait
  // (its BullMQ queue is paused) until it is enabled again.
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A seller at a carrier account: its subaccount there and its own routing defaults. */
export const provisioningGroups = pgTable(
  'provisioning_groups',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    providerAccountId: uuid('provider_account_id')
      .notNull()
      .references(() => providerAccounts.id, { onDelete: 'cascade' }),
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => sellers.id, { onDelete: 'cascade' }),
    // The subaccount's name and sealed secret are written before the carrier is asked to create it,
    // so a crash in between finds it by name instead of making a second one.
    subaccountName: text('subaccount_name'),
    subaccountKey: text('subaccount_key'),
    subaccountSecret: text('subaccount_secret'),
    voice: jsonb('voice').$type<{ type: 'sip' | 'tel' | 'app'; value: string } | null>(),
    sipDomain: text('sip_domain'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [unique('provisioning_groups_account_seller_uq').on(t.providerAccountId, t.sellerId)],
);

export const NUMBER_STATUSES = ['owned', 'released'] as const;

export const provisionedNumbers = pgTable(
  'provisioned_numbers',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    e164: text('e164').notNull(),
    country: text('country').notNull(),
    providerAccountId: uuid('provider_account_id')
      .notNull()
      .references(() => providerAccounts.id),
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => sellers.id),
    // The carrier account holding it: a subaccount's key, or null for the primary account.
    accountKey: text('account_key'),
    status: text('status', { enum: NUMBER_STATUSES }).notNull().default('owned'),
    didId: uuid('did_id').references(() => dids.id, { onDelete: 'set null' }),
    voice: jsonb('voice').$type<{ type: string; value: string } | null>(),
    jobItemId: uuid('job_item_id'),
    boughtAt: timestamp('bought_at', { withTimezone: true }).notNull().defaultNow(),
    releasedAt: timestamp('released_at', { withTimezone: true }),
  },
  (t) => [
    // One live holding per number; released rows stay as history.
    uniqueIndex('provisioned_numbers_live_uq').on(t.e164).where(sql`${t.status} = 'owned'`),
    index('provisioned_numbers_seller_idx').on(t.sellerId),
  ],
);

export const JOB_KINDS = ['provision', 'configure', 'release'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const ITEM_STATES = ['queued', 'chosen', 'done', 'failed'] as const;
export type ItemState = (typeof ITEM_STATES)[number];

export const provisioningJobs = pgTable(
  'provisioning_jobs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: JOB_KINDS }).notNull(),
    providerAccountId: uuid('provider_account_id')
      .notNull()
      .references(() => providerAccounts.id),
    // The group the job works for (a seller key sees its own jobs); null when it spans several.
    sellerId: uuid('seller_id').references(() => sellers.id),
    createdByKey: uuid('created_by_key'),
    idempotencyKey: text('idempotency_key'),
    requestHash: text('request_hash'),
    status: text('status', { enum: ['queued', 'completed'] })
      .notNull()
      .default('queued'),
    total: integer('total').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('provisioning_jobs_idem_uq')
      .on(t.createdByKey, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
  ],
);

export const provisioningJobItems = pgTable(
  'provisioning_job_items',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    jobId: uuid('job_id')
      .notNull()
      .references(() => provisioningJobs.id, { onDelete: 'cascade' }),
    idx: integer('idx').notNull(),
    // provision: {npa, country}; configure: {e164, voice?}; release: {e164}
    input: jsonb('input').$type<Record<string, unknown>>().notNull(),
    state: text('state', { enum: ITEM_STATES }).notNull().default('queued'),
    // The number this item is buying, written before the purchase is sent.
    chosen: text('chosen'),
    // Numbers this item gave up on (taken by someone else, or refused too often).
    tried: text('tried').array().notNull().default(sql`'{}'::text[]`),
    outcome: text('outcome'),
    result: jsonb('result').$type<Record<string, unknown>>(),
    attempts: integer('attempts').notNull().default(0),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    unique('provisioning_job_items_job_idx_uq').on(t.jobId, t.idx),
    // Two items never buy the same number at once.
    uniqueIndex('provisioning_job_items_chosen_uq').on(t.chosen).where(sql`${t.state} = 'chosen'`),
  ],
);

export const WEBHOOK_EVENTS = [
  'number.provisioned',
  'number.configured',
  'number.released',
  'subaccount.created',
  'job.completed',
  'drift.found',
  // Routing's alerts (src/routing/alerts.ts) and the per-call postback (src/cdr/writer.ts).
  'cap.reached',
  'route.failed',
  'node.down',
  'call.completed',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: uuid('id').primaryKey().defaultRandom(),
  // A seller's subscription gets only its own group's events; null: every event (staff).
  sellerId: uuid('seller_id').references(() => sellers.id, { onDelete: 'cascade' }),
  url: text('url').notNull(),
  // Sealed signing secret (shown once, at creation).
  secret: text('secret').notNull(),
  events: text('events').array().notNull(),
  active: boolean('active').notNull().default(true),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
});

export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    subscriptionId: uuid('subscription_id')
      .notNull()
      .references(() => webhookSubscriptions.id, { onDelete: 'cascade' }),
    eventId: uuid('event_id').notNull(),
    event: text('event').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: ['pending', 'delivered', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    deliveredAt: timestamp('delivered_at', { withTimezone: true }),
    // The delivery row is the outbox: written in the transaction of the change it reports, handed to
    // the delivery queue afterwards. Null until handed over (src/platform/outbox.ts).
    enqueuedAt: timestamp('enqueued_at', { withTimezone: true }),
  },
  (t) => [
    unique('webhook_deliveries_sub_event_uq').on(t.subscriptionId, t.eventId),
    index('webhook_deliveries_sub_idx').on(t.subscriptionId, t.createdAt),
    index('webhook_deliveries_outbox_idx').on(t.id).where(sql`${t.enqueuedAt} is null`),
  ],
);
