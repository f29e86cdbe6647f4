// The audit trail of routing resources (sellers, clients, campaigns, DIDs, links and their caps):
// one row per changed row, written by a trigger in the change's own transaction (migration
// 0015_audit_log; src/platform/audit.ts says who).
import { bigserial, index, jsonb, pgTable, text, timestamp } from 'drizzle-orm/pg-core';

export const AUDIT_ACTIONS = ['create', 'update', 'delete'] as const;

export const auditLog = pgTable(
  'audit_log',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    at: timestamp('at', { withTimezone: true }).notNull().defaultNow(),
    // api_key, console_user or system (a change with no actor named: a job, a script, psql).
    actorType: text('actor_type').notNull(),
    actorId: text('actor_id'),
    actorLabel: text('actor_label'),
    // seller, client, campaign, did, link, ... (the trigger's argument)
    resource: text('resource').notNull(),
    resourceId: text('resource_id'),
    action: text('action', { enum: AUDIT_ACTIONS }).notNull(),
    before: jsonb('before').$type<Record<string, unknown>>(),
    after: jsonb('after').$type<Record<string, unknown>>(),
  },
  (t) => [
    index('audit_log_at_idx').on(t.at),
    index('audit_log_resource_idx').on(t.resource, t.resourceId, t.at),
    index('audit_log_actor_idx').on(t.actorId, t.at),
  ],
);
