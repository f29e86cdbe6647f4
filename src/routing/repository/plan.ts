// What a call is routed by: the rows of a DID's plan, read once per call (the catalog caches them).
import { eq } from 'drizzle-orm';
import { buyerGroups, campaigns, clients, dids, links, sellers } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import type { SellerRow, ClientRow, CampaignRow, DidRow, LinkRow, GroupRow } from './common.ts';

/**
 * The rows of a DID's plan: the DID with its seller, its campaign, and the campaign's links with their
 * clients and the clients' buyer groups. Three round trips, none when the DID is unknown or has no campaign (a fourth when a
 * source has a total cap: its answered total).
 */
export async function planRows(
  db: Db,
  number: string,
  /** Another campaign than the DID's own (where a default route sends the call). */
  campaignId?: string,
): Promise<{
  did: DidRow;
  seller: SellerRow;
  campaign: CampaignRow | null;
  links: Array<{ l: LinkRow; c: ClientRow; g: GroupRow | null }>;
} | null> {
  const [r] = await db
    .select({ d: dids, s: sellers })
    .from(dids)
    .innerJoin(sellers, eq(sellers.id, dids.sellerId))
    .where(eq(dids.number, number));
  if (!r) return null;
  const { d, s } = r;
  const cid = campaignId ?? d.campaignId;
  if (!cid) return { did: d, seller: s, campaign: null, links: [] };
  const [c] = await db.select().from(campaigns).where(eq(campaigns.id, cid));
  if (!c) return { did: d, seller: s, campaign: null, links: [] };
  const rows = await db
    .select({ l: links, c: clients, g: buyerGroups })
    .from(links)
    .innerJoin(clients, eq(clients.id, links.clientId))
    .leftJoin(buyerGroups, eq(buyerGroups.id, clients.groupId))
    .where(eq(links.campaignId, c.id));
  return { did: d, seller: s, campaign: c, links: rows };
}
