// Sellers: list, read, write, what names one (counted before a delete), archive and restore, delete.
import { and, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import { apiKeys } from '../../db/schema/auth.ts';
import { consoleUsers } from '../../db/schema/console.ts';
import { pbxEndpoints } from '../../db/schema/pbx.ts';
import {
  provisionedNumbers,
  provisioningGroups,
  provisioningJobs,
  webhookSubscriptions,
} from '../../db/schema/provisioning.ts';
import { callerBlocks, campaigns, dids, links, sellers } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';
import { ownerRows, type Q } from './common.ts';

export const SELLER_SORTS = {
  name: sellers.name,
  active: sellers.active,
  archived_at: sellers.archivedAt,
  created_at: sellers.createdAt,
};

const rows = ownerRows(sellers, SELLER_SORTS);
export const listSellers = rows.list;
export const seller = rows.byId;
export const sellerExists = rows.exists;

/**
 * Whether a seller exists, and if so whether it is archived (null: no such seller). The one reading
 * of it for every domain that must refuse new work for an archived seller.
 */
export async function sellerArchived(db: Db, id: string): Promise<boolean | null> {
  const [r] = await db.select({ archivedAt: sellers.archivedAt }).from(sellers).where(eq(sellers.id, id));
  return r ? r.archivedAt !== null : null;
}
export const insertSeller = rows.insert;
export const updateSeller = rows.update;

/**
 * Everything that names a seller, counted, for its delete: what must go first (`kept`: the delete
 * is refused while any is there) and what the delete takes with it (`removed`: rows that only mean
 * something for this seller, removed by their foreign keys' cascade).
 *
 * Kept: campaigns (with their links) and DIDs, whose calls and reports would lose an owner; console
 * users bound to it and its API keys not revoked (people and dialers that would be left scoped to
 * nothing); numbers it holds or held at a carrier and its provisioning jobs (the carrier's record);
 * its PBX trunks, whose rows in Asterisk's tables only the PBX service removes (a cascade would
 * leave them answering).
 */
export async function sellerDependants(db: Db, id: string) {
  const n = (q: SQL) =>
    db.execute<{ n: number }>(sql`select count(*)::int as n from ${q}`).then((r) => r[0]!.n);
  const [campaignsN, linksN, didsN, users, keys, numbers, jobs, trunks, blocks, webhooks, groups] =
    await Promise.all([
      n(sql`${campaigns} where ${campaigns.sellerId} = ${id}`),
      n(
        sql`${links} join ${campaigns} on ${campaigns.id} = ${links.campaignId} where ${campaigns.sellerId} = ${id}`,
      ),
      n(sql`${dids} where ${dids.sellerId} = ${id}`),
      n(sql`${consoleUsers} where ${consoleUsers.sellerId} = ${id}`),
      n(sql`${apiKeys} where ${apiKeys.sellerId} = ${id} and ${apiKeys.revokedAt} is null`),
      n(sql`${provisionedNumbers} where ${provisionedNumbers.sellerId} = ${id}`),
      n(sql`${provisioningJobs} where ${provisioningJobs.sellerId} = ${id}`),
      n(sql`${pbxEndpoints} where ${pbxEndpoints.sellerId} = ${id}`),
      n(sql`${callerBlocks} where ${callerBlocks.sellerId} = ${id}`),
      n(sql`${webhookSubscriptions} where ${webhookSubscriptions.sellerId} = ${id}`),
      n(sql`${provisioningGroups} where ${provisioningGroups.sellerId} = ${id}`),
    ]);
  return {
    kept: {
      campaigns: campaignsN,
      links: linksN,
      dids: didsN,
      console_users: users,
      api_keys: keys,
      carrier_numbers: numbers,
      provisioning_jobs: jobs,
      pbx_trunks: trunks,
    },
    removed: { blocked_numbers: blocks, webhook_subscriptions: webhooks, carrier_subaccounts: groups },
  };
}
export type SellerDependants = Awaited<ReturnType<typeof sellerDependants>>;

/** Deletes a seller; false when there was none. */
export async function deleteSeller(db: Q, id: string): Promise<boolean> {
  const r = await db.delete(sellers).where(eq(sellers.id, id)).returning({ id: sellers.id });
  return r.length > 0;
}

/**
 * Archives a seller that is not archived, in the caller's transaction: the seller is marked, its API
 * keys not yet revoked are revoked and its console users not yet disabled are disabled (people and
 * dialers of a seller that is gone). Null when there is no such seller, or it was archived already.
 */
export async function archiveSeller(
  db: Q,
  id: string,
): Promise<{ seller: typeof sellers.$inferSelect; revokedKeys: number; disabledUsers: number } | null> {
  const now = new Date();
  const [s] = await db
    .update(sellers)
    .set({ archivedAt: now })
    .where(and(eq(sellers.id, id), isNull(sellers.archivedAt)))
    .returning();
  if (!s) return null;
  const keys = await db
    .update(apiKeys)
    .set({ revokedAt: now })
    .where(and(eq(apiKeys.sellerId, id), isNull(apiKeys.revokedAt)))
    .returning({ id: apiKeys.id });
  const users = await db
    .update(consoleUsers)
    .set({ disabledAt: now })
    .where(and(eq(consoleUsers.sellerId, id), isNull(consoleUsers.disabledAt)))
    .returning({ id: consoleUsers.id });
  return { seller: s, revokedKeys: keys.length, disabledUsers: users.length };
}

/** Restores an archived seller; null when there is no such seller, or it is not archived. */
export async function restoreSeller(db: Q, id: string) {
  const [s] = await db
    .update(sellers)
    .set({ archivedAt: null })
    .where(and(eq(sellers.id, id), isNotNull(sellers.archivedAt)))
    .returning();
  return s ?? null;
}
