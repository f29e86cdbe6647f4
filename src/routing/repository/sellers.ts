// Sellers: list, read, write, what still belongs to one, delete.
import { eq } from 'drizzle-orm';
import { campaigns, dids, sellers } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import {
  type SellerRow,
  type Page,
  type OwnerFilter,
  listOwners,
  type Q,
  type Values,
  countWhere,
} from './common.ts';

export const SELLER_SORTS = { name: sellers.name, active: sellers.active, created_at: sellers.createdAt };

export const listSellers = (db: Db, p: Page & OwnerFilter) => listOwners(db, sellers, SELLER_SORTS, p);

export async function seller(db: Db, id: string): Promise<SellerRow | null> {
  const [r] = await db.select().from(sellers).where(eq(sellers.id, id));
  return r ?? null;
}

export async function sellerExists(db: Db, id: string): Promise<boolean> {
  const [s] = await db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, id));
  return s !== undefined;
}

export async function insertSeller(db: Q, v: typeof sellers.$inferInsert): Promise<SellerRow> {
  const [r] = await db.insert(sellers).values(v).returning();
  return r!;
}

export async function updateSeller(db: Q, id: string, v: Values<typeof sellers>): Promise<SellerRow | null> {
  const [r] = await db.update(sellers).set(v).where(eq(sellers.id, id)).returning();
  return r ?? null;
}

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
