import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  real,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

// Caller-ID rotation: outbound pools (keyed by the dialer's campaign id, e.g. VICIdial's `SALES01`),
// the operator's numbers, and which pools each number serves. The hot state (who is available,
// reserved, cooling) lives in Redis; these tables are its durable source.

export const cidPools = pgTable(
  'cid_pools',
  {
    // The dialer's campaign id, as VICIdial sends it: short text, not a uuid.
    id: text('id').primaryKey(),
    name: text('name'),
    // Answered instead of 503 POOL_EXHAUSTED when no number is usable (E.164), or null.
    fallbackNumber: text('fallback_number'),
    // Number health: a number whose answer rate over its last `health_window` outbound calls falls
    // below `health_min_answer_rate` rests for `health_rest_s` seconds.
    healthWindow: integer('health_window').notNull().default(20),
    healthMinAnswerRate: real('health_min_answer_rate').notNull().default(0),
    healthRestS: integer('health_rest_s').notNull().default(3600),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('cid_pools_id_ck', sql`${t.id} ~ '^[A-Za-z0-9_.-]{1,64}$'`),
    check('cid_pools_window_ck', sql`${t.healthWindow} between 1 and 1000`),
    check('cid_pools_rate_ck', sql`${t.healthMinAnswerRate} between 0 and 1`),
    check('cid_pools_rest_ck', sql`${t.healthRestS} between 1 and 2592000`),
  ],
);

export const callerIds = pgTable(
  'caller_ids',
  {
    number: text('number').primaryKey(), // E.164, normalised
    carrier: text('carrier'),
    npa: text('npa'), // area code (NANP), derived from the number when absent
    state: text('state'), // US state / CA province code (e.g. CA, NY, ON), derived where possible
    hourlyLimit: integer('hourly_limit'),
    dailyLimit: integer('daily_limit'),
    active: boolean('active').notNull().default(true),
    // Usage, written back from Redis in batches (absolute values, so a repeated flush is harmless).
    hourBucket: text('hour_bucket'),
    usesHour: integer('uses_hour').notNull().default(0),
    dayBucket: text('day_bucket'),
    usesDay: integer('uses_day').notNull().default(0),
    totalUses: bigint('total_uses', { mode: 'number' }).notNull().default(0),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    answered: bigint('answered', { mode: 'number' }).notNull().default(0),
    unanswered: bigint('unanswered', { mode: 'number' }).notNull().default(0),
    restedUntil: timestamp('rested_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('caller_ids_number_ck', sql`${t.number} ~ '^\\+[1-9][0-9]{6,14}$'`),
    check('caller_ids_hourly_ck', sql`${t.hourlyLimit} is null or ${t.hourlyLimit} >= 0`),
    check('caller_ids_daily_ck', sql`${t.dailyLimit} is null or ${t.dailyLimit} >= 0`),
  ],
);

export const cidPoolMembers = pgTable(
  'cid_pool_members',
  {
    poolId: text('pool_id')
      .notNull()
      .references(() => cidPools.id, { onDelete: 'cascade' }),
    number: text('number')
      .notNull()
      .references(() => callerIds.number, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.poolId, t.number] }), index('cid_pool_members_number_idx').on(t.number)],
);
