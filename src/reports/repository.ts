// Every SQL of the reports: sums over the rollups (src/db/schema/reports.ts) for the ranges a period
// reads (periods.ts), grouped by one dimension, and the DIDs' monthly rent spread over their calls.
// One statement per figure set, so rollup rows and the calls read beside them come from one snapshot.
import type { Sql } from 'postgres';
import type { ReadRange, RentTerm } from './periods.ts';
import { NONE } from './rollup.ts';

export const DIMENSIONS = ['seller', 'campaign', 'client', 'link', 'did', 'hour', 'day'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportFilter {
  /** Rollup ranges, labelled with their local hour or day when grouped by one. */
  ranges: ReadRange[];
  /** The same period as running-count terms (the rent spread's reads). */
  rent: RentTerm[];
  sellerId?: string | undefined;
  campaignId?: string | undefined;
}

export interface SumRow {
  key: string | null;
  name: string | null;
  /** For `link`: its campaign and client. */
  campaign_id?: string | null;
  client_id?: string | null;
  calls: number;
  answered: number;
  talk_s: number;
  billable_s: number;
  conversions: number;
  payout_micros: number;
  revenue_micros: number;
  cost_micros: number;
}

interface Source {
  /** The rollup read, and its key (`x` is the range read, with its label). */
  table: string;
  key: string;
  /** Quarter-hours are not in this rollup: they are summed from the calls, keyed by `callKey`. */
  callKey?: string;
}
const SOURCE: Record<Dimension, Source> = {
  seller: { table: 'report_campaign_rollups', key: 'r.seller_id::text' },
  campaign: { table: 'report_campaign_rollups', key: 'r.campaign_id::text' },
  hour: { table: 'report_campaign_rollups', key: 'x.label' },
  day: { table: 'report_campaign_rollups', key: 'x.label' },
  client: {
    table: 'report_link_rollups',
    key: 'r.client_id::text',
    callKey: `coalesce(c.client_id, '${NONE}')::text`,
  },
  link: {
    table: 'report_link_rollups',
    key: 'r.link_id::text',
    callKey: `coalesce(c.link_id, '${NONE}')::text`,
  },
  did: { table: 'report_did_rollups', key: 'r.did', callKey: `coalesce(c.did, '')` },
};
const NAME_KIND: Partial<Record<Dimension, string>> = {
  seller: 'seller',
  campaign: 'campaign',
  client: 'client',
};

/** A PostgreSQL array literal of values that need no quoting (grains, ISO instants and dates, numbers). */
const pgArray = (xs: Array<string | number>) => `{${xs.join(',')}}`;
/** Labels (digits, '-', 'T', ':') or none. */
const labels = (xs: Array<string | null>) => pgArray(xs.map((x) => x ?? 'NULL'));

const filterOn = (t: string) =>
  `($2::uuid is null or ${t}.seller_id = $2::uuid) and ($3::uuid is null or ${t}.campaign_id = $3::uuid)`;

const WIDTH: Record<ReadRange['grain'], number> = { q: 900_000, h: 3_600_000, d: 86_400_000 };

/**
 * The ranges as one row per bucket (grain, bucket, label), for an equality join on the rollup's key:
 * a join on bucket ranges left the planner guessing how many rows each range holds, and at some
 * sizes it chose to scan the whole rollup. Ranges of `skip` grain are left out.
 */
function buckets(ranges: ReadRange[], skip?: ReadRange['grain']): [string, string, string] {
  const grains: string[] = [];
  const at: string[] = [];
  const label: Array<string | null> = [];
  for (const r of ranges) {
    if (r.grain === skip) continue;
    for (let t = r.from; t < r.to; t += WIDTH[r.grain]) {
      grains.push(r.grain);
      at.push(new Date(t).toISOString());
      label.push(r.label);
    }
  }
  return [pgArray(grains), pgArray(at), labels(label)];
}

const num = (v: unknown) => Number(v ?? 0);

/**
 * A report statement run without sorts or merge joins where the planner can avoid them. It cannot
 * see how many rows each bucket or term pairs with (they are parameters), so it takes a week by hour
 * at 1,000 DIDs (175,000 rows) for a few thousand, and sorts them (spilling to disk) for a merge join
 * and a grouped aggregate. Hash joins and hashed aggregates are right at every size a report reads
 * (the keys and shares are few); the final `order by` still sorts the few result rows. JIT is off:
 * the penalty the planner adds to a sort it cannot avoid would otherwise cross the JIT threshold
 * and compile every statement (half a second) for reads of milliseconds.
 */
function hashed(sql: Sql, q: string, params: never[]) {
  return sql.begin(async (tx) => {
    await tx.unsafe('set local enable_mergejoin = off; set local enable_sort = off; set local jit = off');
    return tx.unsafe(q, params);
  });
}
const idOrNull = (v: unknown) => (v === null || v === undefined || v === NONE || v === '' ? null : String(v));
const keyOf = (dim: Dimension, v: unknown) => (dim === 'hour' || dim === 'day' ? String(v) : idOrNull(v));

/** Sums per key of `dim` over the filter's ranges: rollup rows, plus calls for quarter-hours a rollup lacks. */
export async function sums(sql: Sql, dim: Dimension, f: ReportFilter): Promise<SumRow[]> {
  const src = SOURCE[dim];
  const link = dim === 'link';
  const extraR = link ? ', r.campaign_id::text as campaign_id, r.client_id::text as client_id' : '';
  const extraC = link
    ? `, coalesce(c.campaign_id, '${NONE}')::text as campaign_id, coalesce(c.client_id, '${NONE}')::text as client_id`
    : '';
  // Quarter-hours from the calls: only at the period's two ends for these groupings (no local
  // boundaries inside), so at most two ranges, each a plain range condition on started_at.
  const callRanges = src.callKey ? f.ranges.filter((r) => r.grain === 'q') : [];
  const [grains, at, label] = buckets(f.ranges, src.callKey ? 'q' : undefined);
  const params: unknown[] = [grains, f.sellerId ?? null, f.campaignId ?? null, at, label];
  const rangeConds = callRanges.map((r) => {
    params.push(new Date(r.from).toISOString(), new Date(r.to).toISOString());
    return `(c.started_at >= $${params.length - 1}::timestamptz and c.started_at < $${params.length}::timestamptz)`;
  });
  const fromCalls = rangeConds.length
    ? `union all
      select ${src.callKey} as key${extraC}, 1, (c.answered_at is not null)::int, c.talk_s, c.billable_s,
        c.converted::int, c.payout_micros, c.revenue_micros, c.cost_micros
      from call_records c
      where (${rangeConds.join(' or ')}) and ${filterOn('c')}`
    : '';
  const kind = NAME_KIND[dim];
  const q = `
    with rows as (
      select ${src.key} as key${extraR}, r.calls, r.answered, r.talk_s, r.billable_s, r.conversions,
        r.payout_micros, r.revenue_micros, r.cost_micros
      from unnest($1::text[], $4::timestamptz[], $5::text[]) as x(grain, bucket, label)
      join ${src.table} r on r.grain = x.grain and r.bucket = x.bucket
      where ${filterOn('r')}
      ${fromCalls}
    ),
    s as (
      select key${link ? ', campaign_id, client_id' : ''},
        sum(calls) calls, sum(answered) answered, sum(talk_s) talk_s, sum(billable_s) billable_s,
        sum(conversions) conversions, sum(payout_micros) payout_micros,
        sum(revenue_micros) revenue_micros, sum(cost_micros) cost_micros
      from rows group by key${link ? ', campaign_id, client_id' : ''}
    )
    select s.*, ${
      kind
        ? `(select name from report_names n where n.kind = '${kind}' and n.id::text = s.key)`
        : link
          ? `(select string_agg(n.name, ' / ' order by n.kind) from report_names n
               where (n.kind = 'campaign' and n.id::text = s.campaign_id) or (n.kind = 'client' and n.id::text = s.client_id))`
          : 'null'
    } as name
    from s order by s.key`;
  const rows = await hashed(sql, q, params as never[]);
  return rows.map((r) => ({
    key: keyOf(dim, r.key),
    name: (r.name as string | null) ?? null,
    ...(link ? { campaign_id: idOrNull(r.campaign_id), client_id: idOrNull(r.client_id) } : {}),
    calls: num(r.calls),
    answered: num(r.answered),
    talk_s: num(r.talk_s),
    billable_s: num(r.billable_s),
    conversions: num(r.conversions),
    payout_micros: num(r.payout_micros),
    revenue_micros: num(r.revenue_micros),
    cost_micros: num(r.cost_micros),
  }));
}

/** Dimensions a DID's rent can be spread over: those the per-DID day counts carry. */
export const RENT_DIMENSIONS: readonly Dimension[] = ['seller', 'campaign', 'did', 'hour', 'day'];
const RENT_KEY: Partial<Record<Dimension, string>> = {
  seller: 'r.seller_id::text',
  campaign: 'r.campaign_id::text',
  did: 'r.did',
  hour: 't.label',
  day: 't.label',
};

/**
 * Each DID's monthly rent spread over its calls: a call's share is the rent divided by the DID's
 * calls in that UTC month (all of them, whatever the report's period), summed per key, rounded to a
 * micro-unit per key. A key's calls of one DID and month are counted from running counts (whole
 * days from the month's row, part-days from the day's row: two look-ups a term), times the share
 * (the same figure as adding each call's share: the numeric product is exact). The rent is the one
 * the DID's month ended with (`did_rents`: the last set before the month's end), so a rent changed
 * today changes this month's spread and no earlier one.
 */
export async function rentByKey(
  sql: Sql,
  dim: Dimension,
  f: ReportFilter,
): Promise<Map<string | null, number>> {
  const m = f.rent.filter((t) => t.kind === 'm');
  const d = f.rent.filter((t) => t.kind === 'd');
  const key = RENT_KEY[dim];
  // Each running-count row of the months and days read (their list given, so only those are read,
  // by the leading key column) paired with its terms and reduced at once to a narrow row (key, DID,
  // month, calls; none for terms without calls), fenced (offset 0) so the planner neither carries
  // the wide rows through a join nor pairs every term with every share first; then each row times
  // its DID's share for the month, summed per key.
  const q = `
    with f as materialized (
      select dm.did, dm.month, d.monthly_rent_micros::numeric / dm.calls as share
      from report_did_months dm cross join lateral (
        select r.monthly_rent_micros from did_rents r
        where r.did = dm.did and r.effective_from < (dm.month + interval '1 month') at time zone 'UTC'
        order by r.effective_from desc limit 1
      ) d
      where dm.calls > 0 and dm.month = any($12::date[]) and d.monthly_rent_micros > 0
    ),
    tm as (
      select * from unnest($1::date[], $4::int[], $5::int[], $6::text[]) as t(at, lo, hi, label)
    ),
    td as (
      select * from unnest($7::date[], $8::date[], $9::int[], $10::int[], $11::text[]) as t(at, month, lo, hi, label)
    )
    select key, round(sum(x.n * f.share)) as rent from (
      select ${key} as key, r.did, r.month, r.calls[t.hi + 1] - r.calls[t.lo + 1] as n
      from report_did_month_days r join tm t on t.at = r.month
      where r.month = any($1::date[]) and ${filterOn('r')} and r.calls[t.hi + 1] <> r.calls[t.lo + 1]
      union all
      select ${key} as key, r.did, t.month, r.calls[t.hi + 1] - r.calls[t.lo + 1] as n
      from report_did_days r join td t on t.at = r.day
      where r.day = any($13::date[]) and ${filterOn('r')} and r.calls[t.hi + 1] <> r.calls[t.lo + 1]
      offset 0
    ) x
    join f on f.did = x.did and f.month = x.month
    group by 1`;
  const params = [
    pgArray(m.map((t) => t.at)),
    f.sellerId ?? null,
    f.campaignId ?? null,
    pgArray(m.map((t) => t.lo)),
    pgArray(m.map((t) => t.hi)),
    labels(m.map((t) => t.label)),
    pgArray(d.map((t) => t.at)),
    pgArray(d.map((t) => t.month)),
    pgArray(d.map((t) => t.lo)),
    pgArray(d.map((t) => t.hi)),
    labels(d.map((t) => t.label)),
    pgArray([...new Set(f.rent.map((t) => t.month))]),
    pgArray([...new Set(d.map((t) => t.at))]),
  ] as never[];
  const rows = await hashed(sql, q, params);
  const out = new Map<string | null, number>();
  for (const r of rows) out.set(keyOf(dim, r.key), num(r.rent));
  return out;
}
