// Buyer groups (clients sharing caps): list, read, write, delete with their clients leaving.
import { eq } from 'drizzle-orm';
import { buyerGroups, clients } from '../../db/schema/routing.ts';
import { countWhere, type Db } from '../../platform/db.ts';
import { ownerRows, type Q } from './common.ts';

export const GROUP_SORTS = {
  name: buyerGroups.name,
  timezone: buyerGroups.timezone,
  created_at: buyerGroups.createdAt,
};

const rows = ownerRows(buyerGroups, GROUP_SORTS);
export const listGroups = rows.list;
export const group = rows.byId;
export const groupExists = rows.exists;
export const insertGroup = rows.insert;
export const updateGroup = rows.update;

export const groupMemberCount = (db: Db, id: string) => countWhere(db, clients, eq(clients.groupId, id));

/** Deletes a group, its clients leaving it, in one transaction; false when there was none. */
export async function deleteGroupDetaching(db: Q, id: string): Promise<boolean> {
  const gone = await db.transaction(async (tx) => {
    await tx.update(clients).set({ groupId: null }).where(eq(clients.groupId, id));
    return tx.delete(buyerGroups).where(eq(buyerGroups.id, id)).returning({ id: buyerGroups.id });
  });
  return gone.length > 0;
}
