// Answered totals: the cap owners with their persisted totals, the batched additions (applied
// exactly once per batch id), and the prune of applied batch ids.
import { and, eq, sql } from 'drizzle-orm';
import { buyerGroups, capTotals, dids, sellers, totalBatches } from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';

export type CapOwnerKind = (typeof capTotals.$inferSelect)['ownerKind'];

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
