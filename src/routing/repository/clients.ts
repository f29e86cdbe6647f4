// Clients (the buyers a call is sent to): list, read, write, delete with their links.
import { eq } from 'drizzle-orm';
import { clients, links } from '../../db/schema/routing.ts';
import { countWhere, type Db } from '../../platform/db.ts';
import { ownerRows, type Q } from './common.ts';

export const CLIENT_SORTS = {
  name: clients.name,
  endpoint: clients.endpoint,
  timezone: clients.timezone,
  active: clients.active,
  created_at: clients.createdAt,
};

const rows = ownerRows(clients, CLIENT_SORTS);
export const listClients = rows.list;
export const client = rows.byId;
export const clientExists = rows.exists;
export const insertClient = rows.insert;
export const updateClient = rows.update;

export const clientLinkCount = (db: Db, id: string) => countWhere(db, links, eq(links.clientId, id));

/** Deletes a client and its links in one transaction; false when there was no client. */
export async function deleteClientAndLinks(db: Q, id: string): Promise<boolean> {
  const gone = await db.transaction(async (tx) => {
    await tx.delete(links).where(eq(links.clientId, id));
    return tx.delete(clients).where(eq(clients.id, id)).returning({ id: clients.id });
  });
  return gone.length > 0;
}
