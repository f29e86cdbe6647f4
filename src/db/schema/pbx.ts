// The daemon's own PBX provisioning records: which endpoint in Asterisk's realtime tables belongs
// to which client, seller or PBX user, the PBX users with their extensions, and the audit trail.
import { sql } from 'drizzle-orm';
import {
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { clients, sellers } from './routing.ts';

// carrier_trunk: a carrier's inbound trunk, written by DID provisioning for a provider account.
export const PBX_ENDPOINT_KINDS = [
  'client_registration',
  'client_ip',
  'seller_trunk',
  'carrier_trunk',
  'user',
] as const;
export type PbxEndpointKind = (typeof PBX_ENDPOINT_KINDS)[number];

export const pbxUsers = pgTable(
  'pbx_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    email: text('email').notNull(),
    // Unique in the database: concurrent creations race here and the loser retries.
    extension: integer('extension').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('pbx_users_extension_uq').on(t.extension),
    uniqueIndex('pbx_users_email_uq').on(sql`lower(${t.email})`),
  ],
);

/** One row per endpoint the daemon provisioned (the ps_* rows are Asterisk's; this says whose). */
export const pbxEndpoints = pgTable(
  'pbx_endpoints',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // ps_endpoints.id
    endpoint: text('endpoint').notNull(),
    kind: text('kind', { enum: PBX_ENDPOINT_KINDS }).notNull(),
    clientId: uuid('client_id').references(() => clients.id, { onDelete: 'cascade' }),
    sellerId: uuid('seller_id').references(() => sellers.id, { onDelete: 'cascade' }),
    userId: uuid('user_id').references(() => pbxUsers.id, { onDelete: 'cascade' }),
    // The SIP username of a registration-based endpoint (never the password).
    username: text('username'),
    // The validated options and raw options as given (no secrets).
    options: jsonb('options').$type<Record<string, unknown>>().notNull().default({}),
    ips: text('ips').array().notNull().default(sql`'{}'::text[]`),
    contact: text('contact'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('pbx_endpoints_endpoint_uq').on(t.endpoint),
    // At most one endpoint per client.
    uniqueIndex('pbx_endpoints_client_uq').on(t.clientId),
    index('pbx_endpoints_seller_idx').on(t.sellerId),
  ],
);

export const pbxAudit = pgTable(
  'pbx_audit',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    actorKeyId: uuid('actor_key_id'),
    actorLabel: text('actor_label'),
    // e.g. user.create, client_endpoint.create, seller_trunk.delete, apply
    action: text('action').notNull(),
    target: text('target'),
    result: text('result', { enum: ['ok', 'error'] }).notNull(),
    detail: jsonb('detail').$type<Record<string, unknown>>(),
  },
  (t) => [index('pbx_audit_at_idx').on(t.at), index('pbx_audit_action_idx').on(t.action, t.at)],
);
