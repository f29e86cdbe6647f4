// Every SQL reading call records (the writer inserts them, see writer.ts): filtered, newest first,
// keyset-paged over (started_at, call_id) so pages stay stable while calls keep arriving.
import { and, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import { callRecords } from '../db/schema/cdr.ts';
import type { Db } from '../platform/db.ts';

export type CallRecordRow = typeof callRecords.$inferSelect;

export interface CallFilter {
  /** Only this seller's calls (a seller key's scope). */
  sellerId?: string | null | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  campaignId?: string | undefined;
  clientId?: string | undefined;
  did?: string | undefined;
  caller?: string | undefined;
  disposition?: string | undefined;
  /** Calls strictly older than this (started_at, call_id): the previous page's last row. */
  before?: { at: Date; id: string } | undefined;
  limit: number;
}

export function listCalls(db: Db, f: CallFilter): Promise<CallRecordRow[]> {
  const w: SQL[] = [];
  if (f.sellerId) w.push(eq(callRecords.sellerId, f.sellerId));
  if (f.from) w.push(gte(callRecords.startedAt, f.from));
  if (f.to) w.push(lt(callRecords.startedAt, f.to));
  if (f.campaignId) w.push(eq(callRecords.campaignId, f.campaignId));
  if (f.clientId) w.push(eq(callRecords.clientId, f.clientId));
  if (f.did) w.push(eq(callRecords.did, f.did));
  if (f.caller) w.push(eq(callRecords.callerNumber, f.caller));
  if (f.disposition) w.push(eq(callRecords.disposition, f.disposition));
  if (f.before) {
    const c = f.before;
    w.push(
      or(
        lt(callRecords.startedAt, c.at),
        and(eq(callRecords.startedAt, c.at), lt(callRecords.callId, c.id)),
      )!,
    );
  }
  return db
    .select()
    .from(callRecords)
    .where(w.length ? and(...w) : undefined)
    .orderBy(desc(callRecords.startedAt), desc(callRecords.callId))
    .limit(f.limit);
}
