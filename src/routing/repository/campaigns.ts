// Campaigns: list (one seller's or all), read within a seller, write, delete detaching.
import { and, desc, eq, type SQL } from 'drizzle-orm';
import { campaigns, dids, links } from '../../db/schema/routing.ts';
import { countWhere, type Db, listPage } from '../../platform/db.ts';
import { type CampaignRow, type Page, orderOf, type Q, type Values } from './common.ts';

export const CAMPAIGN_SORTS = {
  name: campaigns.name,
  strategy: campaigns.strategy,
  max_attempts: campaigns.maxAttempts,
  active: campaigns.active,
  created_at: campaigns.createdAt,
};

export function listCampaigns(db: Db, f: Page & { sellerId?: string | undefined }) {
  return listPage(db, campaigns, {
    where: f.sellerId ? eq(campaigns.sellerId, f.sellerId) : undefined,
    orderBy: orderOf(CAMPAIGN_SORTS, campaigns.id, f.order, [desc(campaigns.createdAt)]),
    limit: f.limit,
    offset: f.offset,
  });
}

/** A campaign, within one seller when `scope` is given. */
export async function campaign(db: Db, id: string, scope: string | null): Promise<CampaignRow | null> {
  const where: SQL[] = [eq(campaigns.id, id)];
  if (scope) where.push(eq(campaigns.sellerId, scope));
  const [r] = await db
    .select()
    .from(campaigns)
    .where(and(...where));
  return r ?? null;
}

export async function insertCampaign(db: Q, v: typeof campaigns.$inferInsert): Promise<CampaignRow> {
  const [r] = await db.insert(campaigns).values(v).returning();
  return r!;
}

export async function updateCampaign(db: Q, id: string, v: Values<typeof campaigns>): Promise<CampaignRow> {
  const [r] = await db.update(campaigns).set(v).where(eq(campaigns.id, id)).returning();
  return r!;
}

/** What refers to a campaign: its DIDs and links. */
export async function campaignHoldings(db: Db, id: string): Promise<{ dids: number; links: number }> {
  return {
    dids: await countWhere(db, dids, eq(dids.campaignId, id)),
    links: await countWhere(db, links, eq(links.campaignId, id)),
  };
}

/** Deletes a campaign in one transaction: its DIDs are detached, its links removed. */
export async function deleteCampaignDetaching(db: Q, id: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.update(dids).set({ campaignId: null }).where(eq(dids.campaignId, id));
    await tx.delete(links).where(eq(links.campaignId, id));
    await tx.delete(campaigns).where(eq(campaigns.id, id));
  });
}
