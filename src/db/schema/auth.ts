import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const API_ROLES = ['admin', 'staff', 'seller', 'dialer'] as const;
export type ApiRole = (typeof API_ROLES)[number];

// API keys are stored only as a SHA-256 hash of the secret part; the clear key is shown once.
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Short public prefix (first chars of the key) so operators can tell keys apart in lists.
    prefix: text('prefix').notNull(),
    hash: text('hash').notNull().unique(),
    role: text('role', { enum: API_ROLES }).notNull(),
    sellerId: uuid('seller_id'),
    allowIps: text('allow_ips').array().notNull().default(sql`'{}'::text[]`),
    label: text('label'),
    // Requests a minute this key may make (null: its role's default from the configuration; 0: no limit).
    rateLimitPerMin: integer('rate_limit_per_min'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
  },
  (t) => [index('api_keys_seller_idx').on(t.sellerId)],
);
