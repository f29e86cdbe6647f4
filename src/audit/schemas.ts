// The audit trail as the API shows it, and its filters.
import { z } from 'zod';
import type { auditLog } from '../db/schema/audit.ts';
import { timestamp } from '../platform/http/input.ts';
import { pageQuery, sortable } from '../platform/http/paging.ts';
import type { ListSort } from '../platform/db.ts';
import { AUDIT_SORTS, type AuditFilter } from './repository.ts';

export const auditQuery = pageQuery.extend({
  // A resource kind (seller, client, campaign, did, link, and those added later).
  resource: z.string().max(64).optional(),
  resource_id: z.string().max(64).optional(),
  action: z.enum(['create', 'update', 'delete']).optional(),
  actor_type: z.enum(['api_key', 'console_user', 'system']).optional(),
  actor_id: z.string().max(64).optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  ...sortable(AUDIT_SORTS),
});
export type AuditQuery = z.infer<typeof auditQuery>;

/** The service's filter for a query (the API's own, or the one the console builds from its form). */
export const auditFilterOf = (q: AuditQuery, order: ListSort | undefined): AuditFilter => ({
  limit: q.limit,
  offset: q.offset,
  resource: q.resource,
  resourceId: q.resource_id,
  action: q.action,
  actorType: q.actor_type,
  actorId: q.actor_id,
  from: q.from ? new Date(q.from) : undefined,
  to: q.to ? new Date(q.to) : undefined,
  order,
});

export const auditOut = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.object({
    type: z.string(),
    id: z.string().nullable(),
    label: z.string().nullable(),
  }),
  resource: z.string(),
  resource_id: z.string().nullable(),
  action: z.string(),
  before: z.record(z.string(), z.unknown()).nullable(),
  after: z.record(z.string(), z.unknown()).nullable(),
});

export const toAudit = (a: typeof auditLog.$inferSelect): z.infer<typeof auditOut> => ({
  id: a.id,
  at: a.at.toISOString(),
  actor: { type: a.actorType, id: a.actorId, label: a.actorLabel },
  resource: a.resource,
  resource_id: a.resourceId,
  action: a.action,
  before: a.before ?? null,
  after: a.after ?? null,
});
