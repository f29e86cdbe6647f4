// DIDs: list (by seller, by campaign), read within a seller, write, delete.
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { dids } from '../../db/schema/routing.ts';
import { type Db, listPage } from '../../platform/db.ts';
import { type DidRow, type Page, orderOf, type Q, type Values } from './common.ts';

export const DID_SORTS = { number: dids.number, created_at: dids.createdAt };

export function listDids(
  db: Db,
  f: Page & { sellerId?: string | null | undefined; campaignId?: string | undefined },
) {
  const where: SQL[] = [];
  if (f.sellerId) where.push(eq(dids.sellerId, f.sellerId));
  if (f.campaignId) where.push(eq(dids.campaignId, f.campaignId));
  return listPage(db, dids, {
    where: where.length ? and(...where) : undefined,
    orderBy: orderOf(DID_SORTS, dids.id, f.order, [desc(dids.createdAt)]),
    limit: f.limit,
    offset: f.offset,
  });
}

/** A DID, within one seller when `scope` is given. */
export async function did(db: Db, id: string, scope: string | null): Promise<DidRow | null> {
  const where: SQL[] = [eq(dids.id, id)];
  if (scope) where.push(eq(dids.sellerId, scope));
  const [r] = await db
    .select()
    .from(dids)
    .where(and(...where));
  return r ?? null;
}

export async function insertDid(db: Q, v: typeof dids.$inferInsert): Promise<DidRow> {
  const [r] = await db.insert(dids).values(v).returning();
  return r!;
}

export async function updateDid(db: Q, id: string, v: Values<typeof dids>): Promise<DidRow> {
  const [r] = await db.update(dids).set(v).where(eq(dids.id, id)).returning();
  return r!;
}

export async function deleteDid(db: Q, id: string): Promise<void> {
  await db.delete(dids).where(eq(dids.id, id));
}
