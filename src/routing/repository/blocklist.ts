// Caller blocklists: a seller's and the global one; the per-call check is one indexed read.
import { and, desc, eq, sql, type SQL } from 'drizzle-orm';
import { callerBlocks } from '../../db/schema/routing.ts';
import { type Db, listPage } from '../../platform/db.ts';
import { type CallerBlockRow, orderOf, type Page } from './common.ts';

/** On the seller's blocklist or the global one (one indexed read). */
export async function isBlocked(db: Db, sellerId: string, number: string): Promise<boolean> {
  const [r] = await db
    .select({ id: callerBlocks.id })
    .from(callerBlocks)
    .where(
      and(
        eq(callerBlocks.number, number),
        sql`(${callerBlocks.sellerId} is null or ${callerBlocks.sellerId} = ${sellerId})`,
      ),
    )
    .limit(1);
  return r !== undefined;
}

/** The orders a blocklist can be listed in (the console's column headers). */
export const CALLER_BLOCK_SORTS = {
  number: callerBlocks.number,
  note: callerBlocks.note,
  created_at: callerBlocks.createdAt,
};

/** Blocklist entries: one seller's (`sellerId`), the global list (null), or every list (undefined). */
export function listCallerBlocks(
  db: Db,
  f: Page & { sellerId?: string | null | undefined; number?: string | undefined },
) {
  const where: SQL[] = [];
  if (f.sellerId === null) where.push(sql`${callerBlocks.sellerId} is null`);
  else if (f.sellerId) where.push(eq(callerBlocks.sellerId, f.sellerId));
  if (f.number) where.push(eq(callerBlocks.number, f.number));
  return listPage(db, callerBlocks, {
    where: where.length ? and(...where) : undefined,
    orderBy: orderOf(CALLER_BLOCK_SORTS, callerBlocks.id, f.order, [
      desc(callerBlocks.createdAt),
      desc(callerBlocks.id),
    ]),
    limit: f.limit,
    offset: f.offset,
  });
}

export async function callerBlock(db: Db, id: string): Promise<CallerBlockRow | null> {
  const [r] = await db.select().from(callerBlocks).where(eq(callerBlocks.id, id));
  return r ?? null;
}

export async function insertCallerBlock(
  db: Db,
  v: typeof callerBlocks.$inferInsert,
): Promise<CallerBlockRow> {
  const [r] = await db.insert(callerBlocks).values(v).returning();
  return r!;
}

export async function deleteCallerBlock(db: Db, id: string): Promise<void> {
  await db.delete(callerBlocks).where(eq(callerBlocks.id, id));
}

/** Adds numbers to one list in one statement; numbers already on it are kept as they were. */
export async function addCallerBlocks(
  db: Db,
  sellerId: string | null,
  rows: Array<{ number: string; note: string | null }>,
): Promise<number> {
  if (!rows.length) return 0;
  const r = await db
    .insert(callerBlocks)
    .values(rows.map((x) => ({ sellerId, number: x.number, note: x.note })))
    .onConflictDoNothing()
    .returning({ id: callerBlocks.id });
  return r.length;
}
