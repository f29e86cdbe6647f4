// Every SQL of the routing domain: the resources calls are routed by (sellers, clients, campaigns,
// DIDs, links), what a call's plan is read from, and the batched answered totals. One file (about
// 650 lines) so that every list's allow-listed ordering and every scope rule for a seller sit beside
// each other; splitting it per resource is the next step once a resource's SQL grows further.
import { and, asc, count, desc, eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import {
  buyerGroups,
  callerBlocks,
  campaigns,
  capTotals,
  clients,
  dids,
  links,
  sellers,
  totalBatches,
} from '../db/schema/routing.ts';
import { type Db, listPage } from '../platform/db.ts';

export type SellerRow = typeof sellers.$inferSelect;
export type ClientRow = typeof clients.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
export type DidRow = typeof dids.$inferSelect;
export type LinkRow = typeof links.$inferSelect;
export type CallerBlockRow = typeof callerBlocks.$inferSelect;
export type GroupRow = typeof buyerGroups.$inferSelect;
/** A list's order: one of its allow-listed columns (below), ascending or descending. */
export type ListSort = { sort: string; dir: 'asc' | 'desc' };
type Page = { limit: number; offset: number; order?: ListSort | undefined };

// The columns each list may be ordered by (the console's column headers); anything else is the
// list's default order. The id breaks ties in the same direction, so pages of an order are stable.
export const SELLER_SORTS = { name: sellers.name, active: sellers.active, created_at: sellers.createdAt };
export const CLIENT_SORTS = {
  name: clients.name,
  endpoint: clients.endpoint,
  timezone: clients.timezone,
  active: clients.active,
  created_at: clients.createdAt,
};
export const CAMPAIGN_SORTS = {
  name: campaigns.name,
  strategy: campaigns.strategy,
  max_attempts: campaigns.maxAttempts,
  active: campaigns.active,
  created_at: campaigns.createdAt,
};
export const DID_SORTS = { number: dids.number, created_at: dids.createdAt };
export const GROUP_SORTS = {
  name: buyerGroups.name,
  timezone: buyerGroups.timezone,
  created_at: buyerGroups.createdAt,
};

/** ORDER BY of a list: the allow-listed column asked for and the id, else `fallback` (pure). */
export function orderOf(
  cols: Record<string, PgColumn>,
  id: PgColumn,
  o: ListSort | undefined,
  fallback: Array<PgColumn | SQL>,
): Array<PgColumn | SQL> {
  const col = o && Object.hasOwn(cols, o.sort) ? cols[o.sort] : undefined;
  if (!col || !o) return fallback;
  const by = o.dir === 'asc' ? asc : desc;
  return [by(col), by(id)];
}
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database, or the caller's transaction (changes run in one, with their audit rows). */
export type Q = Db | Tx;
type Values<T extends { $inferInsert: unknown }> = Partial<T['$inferInsert']>;

const countWhere = async (db: Db, table: typeof campaigns | typeof dids | typeof links, where: SQL) => {
  const [t] = await db.select({ n: count() }).from(table).where(where);
  return t!.n;
};

// ---------------------------------------------------------------- sellers

export const listSellers = (db: Db, p: Page) =>
  listPage(db, sellers, {
    orderBy: orderOf(SELLER_SORTS, sellers.id, p.order, [desc(sellers.createdAt)]),
    limit: p.limit,
    offset: p.offset,
  });

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

// ---------------------------------------------------------------- clients

export const listClients = (db: Db, p: Page) =>
  listPage(db, clients, {
    orderBy: orderOf(CLIENT_SORTS, clients.id, p.order, [desc(clients.createdAt)]),
    limit: p.limit,
    offset: p.offset,
  });

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

// ---------------------------------------------------------------- buyer groups

export const listGroups = (db: Db, p: Page) =>
  listPage(db, buyerGroups, {
    orderBy: orderOf(GROUP_SORTS, buyerGroups.id, p.order, [desc(buyerGroups.createdAt)]),
    limit: p.limit,
    offset: p.offset,
  });

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

// ---------------------------------------------------------------- campaigns

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

// ---------------------------------------------------------------- DIDs

export function listDids(
  db: Db,
  f: Page & { sellerId?: string | null | undefined; campaignId?: string | undefined },
) {
  const where: SQL[] = [];
  if (f.sellerId) where.push(eq(dids.sellerId, f.sellerId));
  if (f.campaignId) where.push(eq(dids.campaignId, f.campaignId));
  return listPage(db, dids, {
    where: where.length ? and(...where) : undefined,
    orderBy: orderOf(DID_SORTS, dids.id, f.order, [desc(dids.createdAt)]),
    limit: f.limit,
    offset: f.offset,
  });
}

/** A DID, within one seller when `scope` is given. */
export async function did(db: Db, id: string, scope: string | null): Promise<DidRow | null> {
  const where: SQL[] = [eq(dids.id, id)];
  if (scope) where.push(eq(dids.sellerId, scope));
  const [r] = await db
    .select()
    .from(dids)
    .where(and(...where));
  return r ?? null;
}

export async function insertDid(db: Q, v: typeof dids.$inferInsert): Promise<DidRow> {
  const [r] = await db.insert(dids).values(v).returning();
  return r!;
}

export async function updateDid(db: Q, id: string, v: Values<typeof dids>): Promise<DidRow> {
  const [r] = await db.update(dids).set(v).where(eq(dids.id, id)).returning();
  return r!;
}

export async function deleteDid(db: Q, id: string): Promise<void> {
  await db.delete(dids).where(eq(dids.id, id));
}

// ---------------------------------------------------------------- links

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

/** True when a row carries at least one of the five caps (only such an owner is counted in Redis). */
const capped = (t: typeof sellers | typeof dids | typeof buyerGroups) =>
  sql`coalesce(${t.concurrencyCap}, ${t.hourlyCap}, ${t.dailyCap}, ${t.monthlyCap}, ${t.totalCap}) is not null`;
const totalOf = (kind: CapOwnerKind, id: typeof sellers.id | typeof dids.id | typeof buyerGroups.id) =>
  and(eq(capTotals.ownerKind, kind), eq(capTotals.ownerId, id));

/**
 * The sellers, DIDs and buyer groups that carry at least one cap, each with its persisted answered
 * total, by name. A seller's view (`scope`) is its own seller and DIDs, never a group: a group's
 * clients take calls from every seller, so its usage tells of other sellers' traffic.
 */
export async function cappedOwners(db: Db, scope: string | null) {
  const [s, d, g] = await Promise.all([
    db
      .select({ row: sellers, persisted: capTotals.totalAnswered })
      .from(sellers)
      .leftJoin(capTotals, totalOf('seller', sellers.id))
      .where(and(capped(sellers), scope ? eq(sellers.id, scope) : undefined))
      .orderBy(sellers.name),
    db
      .select({ row: dids, seller: sellers.name, persisted: capTotals.totalAnswered })
      .from(dids)
      .innerJoin(sellers, eq(sellers.id, dids.sellerId))
      .leftJoin(capTotals, totalOf('did', dids.id))
      .where(and(capped(dids), scope ? eq(dids.sellerId, scope) : undefined))
      .orderBy(dids.number),
    scope
      ? Promise.resolve([])
      : db
          .select({ row: buyerGroups, persisted: capTotals.totalAnswered })
          .from(buyerGroups)
          .leftJoin(capTotals, totalOf('group', buyerGroups.id))
          .where(capped(buyerGroups))
          .orderBy(buyerGroups.name),
  ]);
  return { sellers: s, dids: d, groups: g };
}
export type CappedOwners = Awaited<ReturnType<typeof cappedOwners>>;

// ---------------------------------------------------------------- what a call is routed by

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

export type CapOwnerKind = (typeof capTotals.$inferSelect)['ownerKind'];

/** The persisted answered totals of these cap owners, keyed `<kind>:<id>` (absent = 0). */
export async function capTotalsOf(
  db: Db,
  owners: Array<{ kind: CapOwnerKind; id: string }>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!owners.length) return out;
  const rows = await db
    .select()
    .from(capTotals)
    .where(
      sql`(${capTotals.ownerKind}, ${capTotals.ownerId}) in (${sql.join(
        owners.map((o) => sql`(${o.kind}, ${o.id}::uuid)`),
        sql`, `,
      )})`,
    );
  for (const r of rows) out.set(`${r.ownerKind}:${r.ownerId}`, r.totalAnswered);
  return out;
}

/** Adds answered calls to sellers', DIDs' and groups' persisted totals (`<kind>:<id>` -> n), one statement. */
export async function addCapTotals(db: Db, batch: Map<string, number>): Promise<void> {
  const kinds: string[] = [];
  const ids: string[] = [];
  const ns: number[] = [];
  for (const [k, n] of batch) {
    const [kind, id] = k.split(':') as [string, string];
    kinds.push(kind);
    ids.push(id);
    ns.push(n);
  }
  await db.execute(sql`
    insert into routing_cap_totals (owner_kind, owner_id, total_answered)
    select * from unnest(${`{${kinds.join(',')}}`}::text[], ${`{${ids.join(',')}}`}::uuid[], ${`{${ns.join(',')}}`}::bigint[])
    on conflict (owner_kind, owner_id)
    do update set total_answered = routing_cap_totals.total_answered + excluded.total_answered`);
}

/** Adds answered calls to links' persisted totals, all links in one statement. */
export async function addAnsweredTotals(db: Db, batch: Map<string, number>): Promise<void> {
  const ids = [...batch.keys()];
  const ns = [...batch.values()];
  await db.execute(sql`
    update campaign_links l set total_answered = l.total_answered + v.n
    from unnest(${`{${ids.join(',')}}`}::uuid[], ${`{${ns.join(',')}}`}::int[]) as v(id, n)
    where l.id = v.id`);
}

/**
 * Applies one batch of answered totals exactly once: its id is recorded in the same transaction,
 * and a batch whose id is already there changes nothing. False when it had been applied before.
 */
export async function applyTotalsBatch(
  db: Db,
  id: string,
  linkTotals: Map<string, number>,
  ownerTotals: Map<string, number>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const fresh = await t
      .insert(totalBatches)
      .values({ id })
      .onConflictDoNothing()
      .returning({ id: totalBatches.id });
    if (!fresh.length) return false;
    if (linkTotals.size) await addAnsweredTotals(t, linkTotals);
    if (ownerTotals.size) await addCapTotals(t, ownerTotals);
    return true;
  });
}

/** Forgets applied batch ids older than a day (a replay comes seconds after its batch, not days). */
export async function pruneTotalBatches(db: Db): Promise<void> {
  await db.delete(totalBatches).where(sql`${totalBatches.appliedAt} < now() - interval '1 day'`);
}

// ---------------------------------------------------------------- caller blocklists

/** On the seller's blocklist or the global one (one indexed read). */
export async function isBlocked(db: Db, sellerId: string, number: string): Promise<boolean> {
  const [r] = await db
    .select({ id: callerBlocks.id })
    .from(callerBlocks)
    .where(
      and(
        eq(callerBlocks.number, number),
        sql`(${callerBlocks.sellerId} is null or ${callerBlocks.sellerId} = ${sellerId})`,
      ),
    )
    .limit(1);
  return r !== undefined;
}

/** Blocklist entries: one seller's (`sellerId`), the global list (null), or every list (undefined). */
export function listCallerBlocks(
  db: Db,
  f: Page & { sellerId?: string | null | undefined; number?: string | undefined },
) {
  const where: SQL[] = [];
  if (f.sellerId === null) where.push(sql`${callerBlocks.sellerId} is null`);
  else if (f.sellerId) where.push(eq(callerBlocks.sellerId, f.sellerId));
  if (f.number) where.push(eq(callerBlocks.number, f.number));
  return listPage(db, callerBlocks, {
    where: where.length ? and(...where) : undefined,
    orderBy: [desc(callerBlocks.createdAt), desc(callerBlocks.id)],
    limit: f.limit,
    offset: f.offset,
  });
}

export async function callerBlock(db: Db, id: string): Promise<CallerBlockRow | null> {
  const [r] = await db.select().from(callerBlocks).where(eq(callerBlocks.id, id));
  return r ?? null;
}

export async function insertCallerBlock(
  db: Db,
  v: typeof callerBlocks.$inferInsert,
): Promise<CallerBlockRow> {
  const [r] = await db.insert(callerBlocks).values(v).returning();
  return r!;
}

export async function deleteCallerBlock(db: Db, id: string): Promise<void> {
  await db.delete(callerBlocks).where(eq(callerBlocks.id, id));
}

/** Adds numbers to one list in one statement; numbers already on it are kept as they were. */
export async function addCallerBlocks(
  db: Db,
  sellerId: string | null,
  rows: Array<{ number: string; note: string | null }>,
): Promise<number> {
  if (!rows.length) return 0;
  const r = await db
    .insert(callerBlocks)
    .values(rows.map((x) => ({ sellerId, number: x.number, note: x.note })))
    .onConflictDoNothing()
    .returning({ id: callerBlocks.id });
  return r.length;
}

/** A cap owner's answered uses in its current hour, day and month (in its zone), from the CDRs. */
export interface OwnerUses {
  kind: 'link' | 'seller' | 'did' | 'group';
  id: string;
  /** The zone its hour/day/month buckets are in. */
  tz: string;
  hourly: number;
  daily: number;
  monthly: number;
}

/**
 * The uses each owner with an hourly, daily or monthly cap has had in its current hour, day and
 * month, counted from the calls that ended before `endedBefore` as the slot scripts count them: an
 * answered attempt on a link counting answers (a short answer included), the converted answer on a
 * link counting conversions; each in the bucket of the moment its slot was taken (the attempt's
 * start), for its link, the call's seller and DID, and its client's buyer group. Links are in their
 * client's zone, groups in theirs, sellers and DIDs in `defaultTimezone` (decide.ts capSources).
 */
export async function usesThisPeriod(
  db: Db,
  o: { now: Date; endedBefore: Date; defaultTimezone: string },
): Promise<OwnerUses[]> {
  const now = o.now.toISOString();
  const tz = o.defaultTimezone;
  const rows = await db.execute<Record<string, unknown>>(sql`
    with owners as (
      select 'link' as kind, l.id, coalesce(c.timezone, ${tz}) as tz,
          l.daily_cap is not null as has_d, l.monthly_cap is not null as has_m
        from campaign_links l join clients c on c.id = l.client_id
        where coalesce(l.hourly_cap, l.daily_cap, l.monthly_cap) is not null
      union all
      select 'seller', s.id, ${tz}, s.daily_cap is not null, s.monthly_cap is not null from sellers s
        where coalesce(s.hourly_cap, s.daily_cap, s.monthly_cap) is not null
      union all
      select 'did', d.id, ${tz}, d.daily_cap is not null, d.monthly_cap is not null from dids d
        where coalesce(d.hourly_cap, d.daily_cap, d.monthly_cap) is not null
      union all
      select 'group', g.id, coalesce(g.timezone, ${tz}), g.daily_cap is not null, g.monthly_cap is not null
        from buyer_groups g
        where coalesce(g.hourly_cap, g.daily_cap, g.monthly_cap) is not null
    ),
    bounds as (
      select kind, id, tz, has_d, has_m,
        date_trunc('hour', ${now}::timestamptz at time zone tz) at time zone tz as h0,
        date_trunc('day', ${now}::timestamptz at time zone tz) at time zone tz as d0,
        date_trunc('month', ${now}::timestamptz at time zone tz) at time zone tz as m0
      from owners
    ),
    -- Each owner is read back only as far as the longest period it caps.
    periods as (
      select *, case when has_m then m0 when has_d then d0 else h0 end as w0 from bounds
    ),
    uses as (
      select (x->>'started_at')::timestamptz as t, l.id as link_id, r.seller_id, r.did_id, c.group_id
        from call_records r
        cross join lateral jsonb_array_elements(r.attempts) x
        join campaign_links l on l.id::text = x->>'link_id'
        join clients c on c.id = l.client_id
        where r.started_at >= (select min(w0) from periods) - interval '1 day'
          and r.ended_at < ${o.endedBefore.toISOString()}::timestamptz
          and x->>'answered_at' is not null
          and (l.caps_count <> 'converted' or (r.converted and r.link_id = l.id and x->>'short_answer' is null))
    ),
    owned as (
      select u.t, v.kind, v.id
        from uses u
        cross join lateral (values ('link', u.link_id), ('seller', u.seller_id), ('did', u.did_id), ('group', u.group_id)) v(kind, id)
        where v.id is not null
    )
    select p.kind, p.id::text as id, p.tz,
      count(*) filter (where o.t >= p.h0)::int as hourly,
      count(*) filter (where o.t >= p.d0 and (p.has_d or p.has_m))::int as daily,
      count(*) filter (where p.has_m)::int as monthly
    from periods p join owned o on o.kind = p.kind and o.id = p.id and o.t >= p.w0
    group by p.kind, p.id, p.tz`);
  return rows.map((r) => ({
    kind: r.kind as OwnerUses['kind'],
    id: String(r.id),
    tz: String(r.tz),
    hourly: Number(r.hourly),
    daily: Number(r.daily),
    monthly: Number(r.monthly),
  }));
}
