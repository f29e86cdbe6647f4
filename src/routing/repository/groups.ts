// Buyer groups (clients sharing caps): list, read, write, delete with their clients leaving.
import { count, eq } from 'drizzle-orm';
import { buyerGroups, clients } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import { type GroupRow, type Page, type OwnerFilter, listOwners, type Q, type Values } from './common.ts';

export const GROUP_SORTS = {
  name: buyerGroups.name,
  timezone: buyerGroups.timezone,
  created_at: buyerGroups.createdAt,
};

export const listGroups = (db: Db, p: Page & OwnerFilter) => listOwners(db, buyerGroups, GROUP_SORTS, p);

export async function group(db: Db, id: string): Promise<GroupRow | null> {
  const [r] = await db.select().from(buyerGroups).where(eq(buyerGroups.id, id));
  return r ?? null;
}

export async function groupExists(db: Db, id: string): Promise<boolean> {
  const [g] = await db.select({ id: buyerGroups.id }).from(buyerGroups).where(eq(buyerGroups.id, id));
  return g !== undefined;
}

export async function insertGroup(db: Q, v: typeof buyerGroups.$inferInsert): Promise<GroupRow> {
  const [r] = await db.insert(buyerGroups).values(v).returning();
  return r!;
}

export async function updateGroup(
  db: Q,
  id: string,
  v: Values<typeof buyerGroups>,
): Promise<GroupRow | null> {
  const [r] = await db.update(buyerGroups).set(v).where(eq(buyerGroups.id, id)).returning();
  return r ?? null;
}

export async function groupMemberCount(db: Db, id: string): Promise<number> {
  const [t] = await db.select({ n: count() }).from(clients).where(eq(clients.groupId, id));
  return t!.n;
}

/** Deletes a group, its clients leaving it, in one transaction; false when there was none. */
export async function deleteGroupDetaching(db: Q, id: string): Promise<boolean> {
  const gone = await db.transaction(async (tx) => {
    await tx.update(clients).set({ groupId: null }).where(eq(clients.groupId, id));
    return tx.delete(buyerGroups).where(eq(buyerGroups.id, id)).returning({ id: buyerGroups.id });
  });
  return gone.length > 0;
}
