// Sellers: list, read, write, what still belongs to one, delete.
import { eq } from 'drizzle-orm';
import { campaigns, dids, sellers } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import { ownerRows, type Q, countWhere } from './common.ts';

export const SELLER_SORTS = { name: sellers.name, active: sellers.active, created_at: sellers.createdAt };

const rows = ownerRows(sellers, SELLER_SORTS);
export const listSellers = rows.list;
export const seller = rows.byId;
export const sellerExists = rows.exists;
export const insertSeller = rows.insert;
export const updateSeller = rows.update;

/** What still belongs to a seller: its campaigns and DIDs. */
export async function sellerHoldings(db: Db, id: string): Promise<{ campaigns: number; dids: number }> {
  return {
    campaigns: await countWhere(db, campaigns, eq(campaigns.sellerId, id)),
    dids: await countWhere(db, dids, eq(dids.sellerId, id)),
  };
}

/** Deletes a seller; false when there was none. */
export async function deleteSeller(db: Q, id: string): Promise<boolean> {
  const r = await db.delete(sellers).where(eq(sellers.id, id)).returning({ id: sellers.id });
  return r.length > 0;
}
