// Clients (the buyers a call is sent to): list, read, write, delete with their links.
import { eq } from 'drizzle-orm';
import { clients, links } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import {
  type ClientRow,
  type Page,
  type OwnerFilter,
  listOwners,
  type Q,
  type Values,
  countWhere,
} from './common.ts';

export const CLIENT_SORTS = {
  name: clients.name,
  endpoint: clients.endpoint,
  timezone: clients.timezone,
  active: clients.active,
  created_at: clients.createdAt,
};

export const listClients = (db: Db, p: Page & OwnerFilter) => listOwners(db, clients, CLIENT_SORTS, p);

export async function client(db: Db, id: string): Promise<ClientRow | null> {
  const [r] = await db.select().from(clients).where(eq(clients.id, id));
  return r ?? null;
}

export async function clientExists(db: Db, id: string): Promise<boolean> {
  const [c] = await db.select({ id: clients.id }).from(clients).where(eq(clients.id, id));
  return c !== undefined;
}

export async function insertClient(db: Q, v: typeof clients.$inferInsert): Promise<ClientRow> {
  const [r] = await db.insert(clients).values(v).returning();
  return r!;
}

export async function updateClient(db: Q, id: string, v: Values<typeof clients>): Promise<ClientRow | null> {
  const [r] = await db.update(clients).set(v).where(eq(clients.id, id)).returning();
  return r ?? null;
}

export const clientLinkCount = (db: Db, id: string) => countWhere(db, links, eq(links.clientId, id));

/** Deletes a client and its links in one transaction; false when there was no client. */
export async function deleteClientAndLinks(db: Q, id: string): Promise<boolean> {
  const gone = await db.transaction(async (tx) => {
    await tx.delete(links).where(eq(links.clientId, id));
    return tx.delete(clients).where(eq(clients.id, id)).returning({ id: clients.id });
  });
  return gone.length > 0;
}
