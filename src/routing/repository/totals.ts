// Answered totals: the cap owners with their persisted totals, the batched additions (applied
// exactly once per batch id), and the prune of applied batch ids.
import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  buyerGroups,
  capTotals,
  countedAnswers,
  dids,
  sellers,
  totalBatches,
} from '../../db/schema/routing.ts';
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
 * `slots` (the slots whose answers it holds, each with the `<kind>:<id>` it was counted in) are
 * recorded with it; a slot PostgreSQL holds already (a recovery after a data loss counted it while
 * this batch was on its way) is taken out of the counts. `cutOff`: when Redis made the batch.
 */
export async function applyTotalsBatch(
  db: Db,
  id: string,
  linkTotals: Map<string, number>,
  ownerTotals: Map<string, number>,
  o: { slots?: Map<string, string[]>; cutOff?: number | null } = {},
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const fresh = await t
      .insert(totalBatches)
      .values({ id, cutOff: o.cutOff ? new Date(o.cutOff) : null })
      .onConflictDoNothing()
      .returning({ id: totalBatches.id });
    if (!fresh.length) return false;
    const links = new Map(linkTotals);
    const owners = new Map(ownerTotals);
    if (o.slots?.size) {
      const ids = [...o.slots.keys()];
      const taken = await t
        .insert(countedAnswers)
        .values(ids.map((slotId) => ({ slotId })))
        .onConflictDoNothing()
        .returning({ id: countedAnswers.slotId });
      const counted = new Set(taken.map((r) => r.id));
      for (const slot of ids) {
        if (counted.has(slot)) continue;
        for (const k of o.slots.get(slot) ?? []) {
          const [m, key] = k.startsWith('link:') ? [links, k.slice(5)] : [owners, k];
          m.set(key, (m.get(key) ?? 0) - 1);
        }
      }
    }
    for (const m of [links, owners]) for (const [k, n] of m) if (n <= 0) m.delete(k);
    if (links.size) await addAnsweredTotals(t, links);
    if (owners.size) await addCapTotals(t, owners);
    return true;
  });
}

/** A daemon starts counting with slot ids: recoveries reach back no further than the first such mark. */
export async function markTotalsStart(db: Db): Promise<void> {
  await db.insert(totalBatches).values({ id: `start:${randomUUID()}`, cutOff: new Date() });
}

/** Of these slots, those whose answer the persisted totals hold. */
export async function answersApplied(db: Db, slotIds: string[]): Promise<Set<string>> {
  if (!slotIds.length) return new Set();
  const rows = await db
    .select({ id: countedAnswers.slotId })
    .from(countedAnswers)
    .where(inArray(countedAnswers.slotId, slotIds));
  return new Set(rows.map((r) => r.id));
}

/**
 * After Redis lost the answers waiting for PostgreSQL: the answered attempts (the converted ones on
 * a link whose caps count conversions) of calls that ended before `endedBefore`, whose slot the
 * persisted totals do not hold, are added to their link's total and to each capped seller's, DID's
 * and buyer group's (the client's group now). One transaction; each slot is inserted into
 * `routing_counted_answers` and counted only if that insert took it, so instances recovering at
 * once and a later loss never count one twice; an answer counted in Redis since the loss and
 * found here first is taken out of its batch when that reaches PostgreSQL (applyTotalsBatch). The CDRs read
 * are those that ended after the last cut-off PostgreSQL has less an hour (batches waiting through a
 * PostgreSQL outage longer than that are not found), and never before the first daemon that recorded
 * slots started. Answers the uses.
 */
export async function recoverLostAnswers(db: Db, o: { endedBefore: Date }): Promise<number> {
  return db.transaction(async (tx) => {
    const t = tx as unknown as Db;
    const rows = await t.execute<{ kind: string; id: string; n: number }>(sql`
      with bound as (
        select greatest(max(cut_off) - interval '1 hour', min(cut_off)) as lo
          from routing_total_batches where cut_off is not null
      ),
      lost as (
        select x->>'leg_id' as slot, l.id as link_id, r.seller_id, r.did_id, c.group_id
          from bound
          join call_records r on r.started_at >= bound.lo - interval '1 day'
            and r.ended_at >= bound.lo and r.ended_at < ${o.endedBefore.toISOString()}::timestamptz
          cross join lateral jsonb_array_elements(r.attempts) x
          join campaign_links l on l.id::text = x->>'link_id'
          join clients c on c.id = l.client_id
          where x->>'answered_at' is not null and x->>'leg_id' is not null
            and (l.caps_count <> 'converted' or (r.converted and r.link_id = l.id and x->>'short_answer' is null))
            and not exists (select 1 from routing_counted_answers a where a.slot_id = x->>'leg_id')
      ),
      taken as (
        insert into routing_counted_answers (slot_id) select distinct slot from lost
          on conflict do nothing returning slot_id
      ),
      capped as (
        select 'seller' as kind, id from sellers
          where coalesce(concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap) is not null
        union all select 'did', id from dids
          where coalesce(concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap) is not null
        union all select 'group', id from buyer_groups
          where coalesce(concurrency_cap, hourly_cap, daily_cap, monthly_cap, total_cap) is not null
      )
      select v.kind, v.id::text as id, count(*)::int as n
        from lost join taken on taken.slot_id = lost.slot
        cross join lateral (values ('link', lost.link_id), ('seller', lost.seller_id), ('did', lost.did_id),
                                   ('group', lost.group_id)) v(kind, id)
        where v.id is not null
          and (v.kind = 'link' or exists (select 1 from capped where capped.kind = v.kind and capped.id = v.id))
        group by 1, 2`);
    const links = new Map<string, number>();
    const owners = new Map<string, number>();
    let uses = 0;
    for (const r of rows) {
      if (r.kind === 'link') {
        links.set(r.id, Number(r.n));
        uses += Number(r.n);
      } else owners.set(`${r.kind}:${r.id}`, Number(r.n));
    }
    if (links.size) await addAnsweredTotals(t, links);
    if (owners.size) await addCapTotals(t, owners);
    return uses;
  });
}

/** Forgets applied batch ids and counted slots older than a day (a replay comes seconds after its batch, not days). */
export async function pruneTotalBatches(db: Db): Promise<void> {
  await db.delete(totalBatches).where(sql`${totalBatches.appliedAt} < now() - interval '1 day'`);
  await db.delete(countedAnswers).where(sql`${countedAnswers.appliedAt} < now() - interval '1 day'`);
}
