// Every SQL statement of the audit trail (its rows are written by triggers; here they are read).
import { and, asc, desc, eq, gte, lt, type SQL } from 'drizzle-orm';
import { auditLog } from '../db/schema/audit.ts';
import { type Db, listPage } from '../platform/db.ts';
import { type ListSort, orderOf } from '../platform/db.ts';

/** The orders the trail can be read in (the id breaks ties); newest first unless asked. */
export const AUDIT_SORTS = {
  at: auditLog.at,
  resource: auditLog.resource,
  action: auditLog.action,
  actor: auditLog.actorLabel,
};

export interface AuditFilter {
  limit: number;
  offset: number;
  order?: ListSort | undefined;
  resource?: string | undefined;
  resourceId?: string | undefined;
  action?: 'create' | 'update' | 'delete' | undefined;
  actorType?: string | undefined;
  actorId?: string | undefined;
  /** From this instant, included. */
  from?: Date | undefined;
  /** Up to this instant, excluded. */
  to?: Date | undefined;
}

export function listAudit(db: Db, f: AuditFilter) {
  const w: SQL[] = [];
  if (f.resource) w.push(eq(auditLog.resource, f.resource));
  if (f.resourceId) w.push(eq(auditLog.resourceId, f.resourceId));
  if (f.action) w.push(eq(auditLog.action, f.action));
  if (f.actorType) w.push(eq(auditLog.actorType, f.actorType));
  if (f.actorId) w.push(eq(auditLog.actorId, f.actorId));
  if (f.from) w.push(gte(auditLog.at, f.from));
  if (f.to) w.push(lt(auditLog.at, f.to));
  return listPage(db, auditLog, {
    where: w.length ? and(...w) : undefined,
    orderBy: orderOf(AUDIT_SORTS, auditLog.id, f.order, [desc(auditLog.at), desc(auditLog.id)]),
    limit: f.limit,
    offset: f.offset,
  });
}

/** The kinds of resource the trail holds records of (for a filter's choices). */
export async function auditResources(db: Db): Promise<string[]> {
  const rows = await db
    .selectDistinct({ resource: auditLog.resource })
    .from(auditLog)
    .orderBy(asc(auditLog.resource));
  return rows.map((r) => r.resource);
}

/**
 * Who has records in the trail (type, id and the latest label each was named by), for a filter's
 * choices: only names the records themselves already show.
 */
export async function auditActors(db: Db, limit: number) {
  return db
    .selectDistinctOn([auditLog.actorType, auditLog.actorId], {
      type: auditLog.actorType,
      id: auditLog.actorId,
      label: auditLog.actorLabel,
    })
    .from(auditLog)
    .orderBy(asc(auditLog.actorType), asc(auditLog.actorId), desc(auditLog.at))
    .limit(limit);
}
