// Links (a campaign's offer to a client): read, write, delete, and every link with the names it
// is shown with.
import { eq } from 'drizzle-orm';
import { campaigns, clients, links, sellers } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import type { LinkRow, Q, Values } from './common.ts';

export const linksOfCampaign = (db: Db, campaignId: string): Promise<LinkRow[]> =>
  db.select().from(links).where(eq(links.campaignId, campaignId)).orderBy(links.priority);

/** A link with the seller of its campaign (whose keys may see it). */
export async function linkWithSeller(
  db: Db,
  id: string,
): Promise<{ link: LinkRow; sellerId: string } | null> {
  const [r] = await db
    .select({ link: links, sellerId: campaigns.sellerId })
    .from(links)
    .innerJoin(campaigns, eq(campaigns.id, links.campaignId))
    .where(eq(links.id, id));
  return r ?? null;
}

export async function insertLink(db: Q, v: typeof links.$inferInsert): Promise<LinkRow> {
  const [r] = await db.insert(links).values(v).returning();
  return r!;
}

export async function updateLink(db: Q, id: string, v: Values<typeof links>): Promise<LinkRow> {
  const [r] = await db.update(links).set(v).where(eq(links.id, id)).returning();
  return r!;
}

export async function deleteLink(db: Q, id: string): Promise<void> {
  await db.delete(links).where(eq(links.id, id));
}

/** Every link (of one seller's campaigns when `scope` is given) with its client's time zone. */
/**
 * Every link (of one seller, or all for null) with what is needed to count its usage (its client's
 * time zone) and to show it (campaign, client and seller names), by campaign name, priority, client.
 */
export function namedLinks(db: Db, scope: string | null) {
  return db
    .select({
      link: links,
      timezone: clients.timezone,
      campaign: campaigns.name,
      client: clients.name,
      sellerId: campaigns.sellerId,
      seller: sellers.name,
    })
    .from(links)
    .innerJoin(campaigns, eq(campaigns.id, links.campaignId))
    .innerJoin(clients, eq(clients.id, links.clientId))
    .innerJoin(sellers, eq(sellers.id, campaigns.sellerId))
    .where(scope ? eq(campaigns.sellerId, scope) : undefined)
    .orderBy(campaigns.name, links.priority, clients.name);
}
export type NamedLink = Awaited<ReturnType<typeof namedLinks>>[number];
