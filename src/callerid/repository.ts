// Every SQL statement of the caller-ID domain: pools, numbers and memberships (drizzle), and the bulk
// statements of the hot state's upkeep and the import (postgres.js, one statement a batch).
// PostgreSQL is the durable source; Redis holds the hot state (store.ts).
import { and, asc, count, desc, eq, ilike, inArray, or, type SQL, sql as dsql } from 'drizzle-orm';
import type { Sql } from 'postgres';
import { countWhere, type Db, type ListSort, likeLiteral, orderOf } from '../platform/db.ts';
import type { RebuildRow } from './store.ts';
import { callerIds, cidPoolMembers, cidPools } from '../db/schema/callerid.ts';

export type PoolRow = typeof cidPools.$inferSelect;
export type PoolValues = Partial<Omit<typeof cidPools.$inferInsert, 'createdAt'>>;
export type NumberRow = typeof callerIds.$inferSelect;
export type NumberValues = Partial<Omit<typeof callerIds.$inferInsert, 'number' | 'createdAt'>>;

/** The orders a page of numbers can be read in (usage as last flushed from Redis). */
export const NUMBER_SORTS = {
  number: callerIds.number,
  carrier: callerIds.carrier,
  area_code: callerIds.npa,
  state: callerIds.state,
  hourly_limit: callerIds.hourlyLimit,
  daily_limit: callerIds.dailyLimit,
  total: callerIds.totalUses,
  last_used: callerIds.lastUsedAt,
  answered: callerIds.answered,
  unanswered: callerIds.unanswered,
} as const;
export type NumberSort = keyof typeof NUMBER_SORTS;

/** How many numbers a pool holds (a pool's list can be ordered by it). */
const memberCount = dsql<number>`(select count(*) from ${cidPoolMembers} where ${cidPoolMembers.poolId} = ${cidPools.id})`;

/** A pool's members resting as last flushed from Redis (`rested_until` still ahead). */
const restingCount = dsql<number>`(select count(*) from ${cidPoolMembers} join ${callerIds} on ${callerIds.number} = ${cidPoolMembers.number} where ${cidPoolMembers.poolId} = ${cidPools.id} and ${callerIds.restedUntil} > now())`;
/** A pool's members' uses ever, as last flushed from Redis. */
const usesTotal = dsql<number>`(select coalesce(sum(${callerIds.totalUses}), 0) from ${cidPoolMembers} join ${callerIds} on ${callerIds.number} = ${cidPoolMembers.number} where ${cidPoolMembers.poolId} = ${cidPools.id})`;

/**
 * The orders a page of pools can be read in (the id breaks ties; by id unless asked). The live
 * figures (available, resting, uses this hour and today) are in Redis, not here, and only the page's
 * own pools' figures are read; a page is ordered by what PostgreSQL holds: the member count, the
 * members resting and their uses ever as the usage flush last wrote them (seconds behind Redis).
 */
export const POOL_SORTS = {
  id: cidPools.id,
  name: cidPools.name,
  numbers: memberCount,
  resting: restingCount,
  total_uses: usesTotal,
  created: cidPools.createdAt,
};
export type PoolSort = keyof typeof POOL_SORTS;

export interface PoolFilter {
  limit: number;
  offset: number;
  order?: ListSort | undefined;
  /** Part of the pool's id or name (any case, wildcards literal). */
  q?: string | undefined;
}

/** A pool's health settings as PostgreSQL holds them. */
export interface PoolConfigRow {
  id: string;
  fallback_number: string | null;
  health_window: number;
  health_min_answer_rate: number;
  health_rest_s: number;
}

/** A number with its usage and pools, as the hot state is built from it. */
export interface HotNumberRow {
  number: string;
  npa: string | null;
  state: string | null;
  hourly_limit: number | null;
  daily_limit: number | null;
  active: boolean;
  hour_bucket: string | null;
  uses_hour: number;
  day_bucket: string | null;
  uses_day: number;
  total_uses: string | number;
  // Raw text from postgres.js as drizzle configures it (or a Date): read through msOf().
  last_used_at: Date | string | null;
  answered: string | number;
  unanswered: string | number;
  rested_until: Date | string | null;
  pools: string[];
}

/** One line of an import, validated: '' where the CSV left a field empty. */
export interface ImportRow {
  number: string;
  carrier: string;
  npa: string;
  state: string;
  hourly: string;
  daily: string;
  pool: string;
}

const inPool = (pool: string | undefined): SQL | undefined =>
  pool
    ? dsql`${callerIds.number} in (select number from cid_pool_members where pool_id = ${pool})`
    : undefined;

export class CallerIdRepository {
  /** `db` (drizzle) serves the API's reads and writes; the bulk statements need only `sql`. */
  constructor(
    private sql: Sql,
    private drizzleDb: Db | null = null,
  ) {}

  private get db(): Db {
    if (!this.drizzleDb) throw new Error('CallerIdRepository: pool and number CRUD needs the drizzle client');
    return this.drizzleDb;
  }

  // ---- pools ------------------------------------------------------------------------------
  /** A page of pools with their member counts, filtered and ordered in the query, and the total. */
  async listPools(f: PoolFilter): Promise<{ items: Array<PoolRow & { numbers: number }>; total: number }> {
    const p = f.q ? `%${likeLiteral(f.q)}%` : undefined;
    const where = p ? or(ilike(cidPools.id, p), ilike(cidPools.name, p)) : undefined;
    const items = await this.db
      .select({ pool: cidPools, numbers: memberCount.mapWith(Number) })
      .from(cidPools)
      .where(where)
      .orderBy(...orderOf(POOL_SORTS, cidPools.id, f.order, [asc(cidPools.id)]))
      .limit(f.limit)
      .offset(f.offset);
    return {
      items: items.map((r) => ({ ...r.pool, numbers: r.numbers })),
      total: await countWhere(this.db, cidPools, where),
    };
  }
  async poolIds(): Promise<string[]> {
    return (await this.db.select({ id: cidPools.id }).from(cidPools).orderBy(asc(cidPools.id))).map(
      (p) => p.id,
    );
  }
  async getPool(id: string): Promise<PoolRow | null> {
    const [r] = await this.db.select().from(cidPools).where(eq(cidPools.id, id));
    return r ?? null;
  }
  async insertPool(id: string, v: PoolValues): Promise<PoolRow> {
    const [r] = await this.db
      .insert(cidPools)
      .values({ ...v, id })
      .returning();
    return r!;
  }
  async updatePool(id: string, v: PoolValues): Promise<PoolRow | null> {
    if (!Object.keys(v).length) return this.getPool(id);
    const [r] = await this.db.update(cidPools).set(v).where(eq(cidPools.id, id)).returning();
    return r ?? null;
  }
  /** Deletes a pool; answers the numbers that served it, or null when there was no such pool. */
  async deletePool(id: string): Promise<string[] | null> {
    const members = await this.poolMembers(id);
    const gone = await this.db.delete(cidPools).where(eq(cidPools.id, id)).returning();
    return gone.length ? members : null;
  }
  /** Numbers per pool. */
  async memberCounts(ids: string[]): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    if (!ids.length) return m;
    const rows = await this.db
      .select({ id: cidPoolMembers.poolId, n: count() })
      .from(cidPoolMembers)
      .where(inArray(cidPoolMembers.poolId, ids))
      .groupBy(cidPoolMembers.poolId);
    for (const r of rows) m.set(r.id, r.n);
    return m;
  }
  async poolMembers(id: string): Promise<string[]> {
    const rows = await this.db
      .select({ n: cidPoolMembers.number })
      .from(cidPoolMembers)
      .where(eq(cidPoolMembers.poolId, id));
    return rows.map((r) => r.n);
  }
  /** The ids among `ids` that name no pool. */
  async missingPools(ids: string[]): Promise<string[]> {
    if (!ids.length) return [];
    const found = await this.db.select({ id: cidPools.id }).from(cidPools).where(inArray(cidPools.id, ids));
    return ids.filter((i) => !found.some((f) => f.id === i));
  }

  // ---- numbers ----------------------------------------------------------------------------
  /** A page of numbers, by number or in another order (number breaks ties). */
  listNumbers(
    pool: string | undefined,
    limit: number,
    offset: number,
    order: { sort: NumberSort; dir: 'asc' | 'desc' } = { sort: 'number', dir: 'asc' },
  ): Promise<NumberRow[]> {
    const by = order.dir === 'asc' ? asc : desc;
    return this.db
      .select()
      .from(callerIds)
      .where(inPool(pool))
      .orderBy(by(NUMBER_SORTS[order.sort]), by(callerIds.number))
      .limit(limit)
      .offset(offset);
  }
  async listNumberIds(pool: string | undefined, limit: number, offset: number): Promise<string[]> {
    const rows = await this.db
      .select({ number: callerIds.number })
      .from(callerIds)
      .where(inPool(pool))
      .orderBy(asc(callerIds.number))
      .limit(limit)
      .offset(offset);
    return rows.map((r) => r.number);
  }
  countNumbers(pool: string | undefined): Promise<number> {
    return countWhere(this.db, callerIds, inPool(pool));
  }
  async getNumber(number: string): Promise<NumberRow | null> {
    const [r] = await this.db.select().from(callerIds).where(eq(callerIds.number, number));
    return r ?? null;
  }
  /** The pools each number serves. */
  async poolsOf(numbers: string[]): Promise<Map<string, string[]>> {
    const m = new Map<string, string[]>();
    if (!numbers.length) return m;
    const rows = await this.db.select().from(cidPoolMembers).where(inArray(cidPoolMembers.number, numbers));
    for (const r of rows) m.set(r.number, [...(m.get(r.number) ?? []), r.poolId]);
    return m;
  }
  /** Inserts a number and its memberships in one transaction. */
  insertNumber(number: string, v: NumberValues, pools: string[]): Promise<NumberRow> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(callerIds)
        .values({ ...v, number })
        .returning();
      if (pools.length) await tx.insert(cidPoolMembers).values(pools.map((poolId) => ({ poolId, number })));
      return row!;
    });
  }
  /** Updates a number and, when `pools` is given, replaces its memberships; null when it does not exist. */
  updateNumber(number: string, v: NumberValues, pools: string[] | undefined): Promise<NumberRow | null> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .update(callerIds)
        .set({ ...v, updatedAt: new Date() })
        .where(eq(callerIds.number, number))
        .returning();
      if (!row) return null;
      if (pools) {
        await tx.delete(cidPoolMembers).where(eq(cidPoolMembers.number, number));
        if (pools.length) await tx.insert(cidPoolMembers).values(pools.map((poolId) => ({ poolId, number })));
      }
      return row;
    });
  }
  /** Deletes a number; false when it did not exist. */
  async deleteNumber(number: string): Promise<boolean> {
    return (await this.db.delete(callerIds).where(eq(callerIds.number, number)).returning()).length > 0;
  }
  /** Takes a number out of one pool; false when it was not in it. */
  async deleteMembership(number: string, pool: string): Promise<boolean> {
    const gone = await this.db
      .delete(cidPoolMembers)
      .where(and(eq(cidPoolMembers.number, number), eq(cidPoolMembers.poolId, pool)))
      .returning();
    return gone.length > 0;
  }

  // ---- the hot state's upkeep -----------------------------------------------------------------
  poolConfigs(): Promise<PoolConfigRow[]> {
    return this.sql<PoolConfigRow[]>`
      select id, fallback_number, health_window, health_min_answer_rate, health_rest_s from cid_pools`;
  }
  async poolConfig(id: string): Promise<PoolConfigRow | null> {
    const [p] = await this.sql<PoolConfigRow[]>`
      select id, fallback_number, health_window, health_min_answer_rate, health_rest_s
      from cid_pools where id = ${id}`;
    return p ?? null;
  }
  async poolIdsPlain(): Promise<string[]> {
    return (await this.sql<{ id: string }[]>`select id from cid_pools order by id`).map((r) => r.id);
  }
  /** The pools, those with the fewest numbers first (the rebuild serves each as soon as it is placed). */
  async poolsBySize(): Promise<string[]> {
    const rows = await this.sql<{ id: string }[]>`
      select p.id from cid_pools p left join cid_pool_members m on m.pool_id = p.id
      group by p.id order by count(m.number), p.id`;
    return rows.map((r) => r.id);
  }
  /**
   * The numbers of a pool (null: the numbers of no pool), `batch` rows at a time, each already in
   * the shape its hash takes in Redis (RebuildRow: text, '' unset), so the daemon only passes the
   * values on: reservations as last use + `reservationTtlMs`, times in ms, pools comma-separated
   * in byte order, the NPA-NXX from the number.
   */
  rebuildRows(pool: string | null, reservationTtlMs: number, batch: number): AsyncIterable<RebuildRow[]> {
    const where =
      pool === null
        ? this
            .sql`from caller_ids c where not exists (select 1 from cid_pool_members x where x.number = c.number)`
        : this
            .sql`from cid_pool_members m join caller_ids c on c.number = m.number where m.pool_id = ${pool}`;
    return this.sql<RebuildRow[]>`
      select c.number, case when c.active then '1' else '0' end as a, coalesce(c.npa, '') as npa,
        coalesce(substring(c.number from '^[+]1([0-9]{6})[0-9]{4}$'), '') as nxx,
        coalesce(c.state, '') as st,
        coalesce(c.hourly_limit, -1)::text as hl, coalesce(c.daily_limit, -1)::text as dl,
        array_to_string(array(select x.pool_id from cid_pool_members x where x.number = c.number
                              order by x.pool_id collate "C"), ',') as pools,
        coalesce(floor(extract(epoch from c.last_used_at) * 1000)::bigint, 0)::text as last,
        coalesce(floor(extract(epoch from c.last_used_at) * 1000)::bigint + ${reservationTtlMs}::bigint, 0)::text
          as resv,
        coalesce(floor(extract(epoch from c.rested_until) * 1000)::bigint, 0)::text as rest,
        coalesce(c.hour_bucket, '') as hb, c.uses_hour::text as hc,
        coalesce(c.day_bucket, '') as db, c.uses_day::text as dc,
        c.total_uses::text as tot, c.answered::text as ans, c.unanswered::text as unans
      ${where}`.cursor(batch);
  }
  /** The named numbers with their usage and pools (absent ones are left out). */
  hotNumbersOf(numbers: string[]): Promise<HotNumberRow[]> {
    return this.sql<HotNumberRow[]>`
      select c.*, coalesce(array_agg(m.pool_id) filter (where m.pool_id is not null), '{}') as pools
      from caller_ids c left join cid_pool_members m on m.number = c.number
      where c.number = any(${numbers}::text[]) group by c.number`;
  }

  /**
   * Writes the usage the flush took from Redis: one JSON parameter, number -> [...USAGE_COLUMNS]
   * (store.ts), as Redis wrote it.
   */
  async writeUsage(json: string): Promise<void> {
    // The parameter is sent as text and cast: typed jsonb, postgres.js would JSON-encode the string
    // once more (a jsonb string, not the object) unless drizzle has swapped that serializer on the
    // client, as createDatabase's does; this way the statement holds on any client.
    // Ten text[] parameters had been escaped element by element. The rows are found by
    // `number = any(keys)`, which PostgreSQL answers from the primary key whatever its statistics
    // say: a join with jsonb_array_elements had been planned as a hash join over a sequential scan
    // of the whole table until autoanalyze ran after an import (about 100 µs of PostgreSQL a pick).
    await this.sql`
      with p as (select ${json}::text::jsonb as j)
      update caller_ids c set
        hour_bucket = nullif(p.j -> c.number ->> 0, ''),
        uses_hour = coalesce(nullif(p.j -> c.number ->> 1, ''), '0')::int,
        day_bucket = nullif(p.j -> c.number ->> 2, ''),
        uses_day = coalesce(nullif(p.j -> c.number ->> 3, ''), '0')::int,
        total_uses = coalesce(nullif(p.j -> c.number ->> 4, ''), '0')::bigint,
        last_used_at = case when coalesce(nullif(p.j -> c.number ->> 5, ''), '0')::bigint > 0
                         then to_timestamp((p.j -> c.number ->> 5)::bigint / 1000.0) end,
        answered = coalesce(nullif(p.j -> c.number ->> 6, ''), '0')::bigint,
        unanswered = coalesce(nullif(p.j -> c.number ->> 7, ''), '0')::bigint,
        rested_until = case when coalesce(nullif(p.j -> c.number ->> 8, ''), '0')::bigint > 0
                         then to_timestamp((p.j -> c.number ->> 8)::bigint / 1000.0) end,
        updated_at = now()
      from p
      where c.number = any(array(select jsonb_object_keys(p.j) from p))`;
  }

  // ---- the import -------------------------------------------------------------------------
  /**
   * Upserts one batch of import lines and their memberships, creating the pools they name that
   * `known` does not hold yet. Answers the pools it created and the numbers that are not fresh
   * active inserts (already there, or inactive): every other number is one.
   */
  async importBatch(
    rows: ImportRow[],
    known: Set<string>,
  ): Promise<{ created: string[]; unusual: Map<string, { active: boolean; inserted: boolean }> }> {
    const created: string[] = [];
    const unusual = new Map<string, { active: boolean; inserted: boolean }>();
    const pools = [...new Set(rows.map((r) => r.pool).filter((p) => p && !known.has(p)))];
    await this.sql.begin(async (tx) => {
      if (pools.length) {
        const made = await tx<{ id: string }[]>`
          insert into cid_pools (id) select * from unnest(${pools}::text[]) on conflict (id) do nothing returning id`;
        created.push(...made.map((c) => c.id));
      }
      // One statement, the batch as one JSON parameter (row = [number, carrier, npa, state, hourly,
      // daily, pool]): JSON.stringify is native, where seven text[] parameters were escaped element
      // by element. The membership insert's foreign key sees the numbers inserted beside it.
      const batch = JSON.stringify(
        rows.map((r) => [r.number, r.carrier, r.npa, r.state, r.hourly, r.daily, r.pool]),
      );
      const upserted = await tx<{ number: string; active: boolean; inserted: boolean }[]>`
        with u as (
          select r->>0 as number, nullif(r->>1, '') as carrier, nullif(r->>2, '') as npa,
                 nullif(r->>3, '') as state, nullif(r->>4, '')::int as hourly, nullif(r->>5, '')::int as daily,
                 nullif(r->>6, '') as pool
          from jsonb_array_elements(${batch}::text::jsonb) as r -- text: see writeUsage
        ), upsert as (
          insert into caller_ids (number, carrier, npa, state, hourly_limit, daily_limit)
          select number, carrier, npa, state, hourly, daily from u
          on conflict (number) do update set
            carrier = excluded.carrier, npa = excluded.npa, state = excluded.state,
            hourly_limit = excluded.hourly_limit, daily_limit = excluded.daily_limit, updated_at = now()
          returning number, active, (xmax = 0) as inserted
        ), member as (
          insert into cid_pool_members (pool_id, number)
          select pool, number from u where pool is not null
          on conflict do nothing
        )
        select number, active, inserted from upsert where not (inserted and active)`;
      // xmax is 0 on a row this statement inserted, set on one it updated (ON CONFLICT DO UPDATE).
      // Only the exceptions come back: a fresh import returns nothing to parse.
      for (const u of upserted) unusual.set(u.number, { active: u.active, inserted: u.inserted });
    });
    for (const p of pools) known.add(p);
    return { created, unusual };
  }
}
