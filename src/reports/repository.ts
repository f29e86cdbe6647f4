// Every SQL of the reports: sums over the rollups (src/db/schema/reports.ts) for the ranges a period
// reads (periods.ts), grouped by one dimension, and the DIDs' monthly rent spread over their calls.
import type { Sql } from 'postgres';
import type { Range } from './periods.ts';
import { NONE } from './rollup.ts';

export const DIMENSIONS = ['seller', 'campaign', 'client', 'link', 'did', 'hour', 'day'] as const;
export type Dimension = (typeof DIMENSIONS)[number];

export interface ReportFilter {
  ranges: Range[];
  /** IANA zone hours and days are read in. */
  tz: string;
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

// Static SQL per dimension (chosen from the closed list, never from request text).
const KEY: Record<Dimension, string> = {
  seller: 'r.seller_id::text',
  campaign: 'r.campaign_id::text',
  client: 'r.client_id::text',
  link: 'r.link_id::text',
  did: 'r.did',
  hour: `to_char(r.bucket at time zone $4::text, 'YYYY-MM-DD"T"HH24:00')`,
  day: `to_char(r.bucket at time zone $4::text, 'YYYY-MM-DD')`,
};
const NAME_KIND: Partial<Record<Dimension, string>> = {
  seller: 'seller',
  campaign: 'campaign',
  client: 'client',
};

/** A PostgreSQL array literal of values that need no quoting (grains, ISO instants). */
const pgArray = (xs: string[]) => `{${xs.join(',')}}`;

function rangeArgs(f: ReportFilter) {
  return [
    pgArray(f.ranges.map((r) => r.grain)),
    pgArray(f.ranges.map((r) => new Date(r.from).toISOString())),
    pgArray(f.ranges.map((r) => new Date(r.to).toISOString())),
    f.tz,
    f.sellerId ?? null,
    f.campaignId ?? null,
  ];
}

const FROM_RANGES = (table: string) => `
  from unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) as x(grain, s, e)
  join ${table} r on r.grain = x.grain and r.bucket >= x.s and r.bucket < x.e
  where ($5::uuid is null or r.seller_id = $5::uuid) and ($6::uuid is null or r.campaign_id = $6::uuid)
    and $4::text is not null`;

const num = (v: unknown) => Number(v ?? 0);
const idOrNull = (v: unknown) => (v === null || v === undefined || v === NONE || v === '' ? null : String(v));

/** Sums per key of `dim` over the filter's ranges (link and DID rollups by dimension). */
export async function sums(sql: Sql, dim: Dimension, f: ReportFilter): Promise<SumRow[]> {
  const table = dim === 'did' ? 'report_did_rollups' : 'report_link_rollups';
  const extra = dim === 'link' ? ', r.campaign_id::text, r.client_id::text' : '';
  const kind = NAME_KIND[dim];
  const q = `
    with s as (
      select ${KEY[dim]} as key${extra ? `, r.campaign_id::text as campaign_id, r.client_id::text as client_id` : ''},
        sum(r.calls) calls, sum(r.answered) answered, sum(r.talk_s) talk_s, sum(r.billable_s) billable_s,
        sum(r.conversions) conversions, sum(r.payout_micros) payout_micros,
        sum(r.revenue_micros) revenue_micros, sum(r.cost_micros) cost_micros
      ${FROM_RANGES(table)}
      group by ${KEY[dim]}${extra}
    )
    select s.*, ${
      kind
        ? `(select name from report_names n where n.kind = '${kind}' and n.id::text = s.key)`
        : dim === 'link'
          ? `(select string_agg(n.name, ' / ' order by n.kind) from report_names n
               where (n.kind = 'campaign' and n.id::text = s.campaign_id) or (n.kind = 'client' and n.id::text = s.client_id))`
          : 'null'
    } as name
    from s order by s.key`;
  const rows = await sql.unsafe(q, rangeArgs(f) as never[]);
  return rows.map((r) => ({
    key: dim === 'hour' || dim === 'day' ? String(r.key) : idOrNull(r.key),
    name: (r.name as string | null) ?? null,
    ...(dim === 'link' ? { campaign_id: idOrNull(r.campaign_id), client_id: idOrNull(r.client_id) } : {}),
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

/** Dimensions a DID's rent can be spread over: those the DID rollup carries. */
export const RENT_DIMENSIONS: readonly Dimension[] = ['seller', 'campaign', 'did', 'hour', 'day'];

/**
 * Each DID's monthly rent spread over its calls: a call's share is the rent divided by the DID's
 * calls in that UTC month (all of them, whatever the report's period), summed per key, rounded to a
 * micro-unit per key. The rent is the DID's current one.
 */
export async function rentByKey(
  sql: Sql,
  dim: Dimension,
  f: ReportFilter,
): Promise<Map<string | null, number>> {
  const full = `
    select ${KEY[dim]} as key,
      round(sum(r.calls::numeric * d.monthly_rent_micros / nullif(m.calls, 0))) as rent
    from unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) as x(grain, s, e)
    join report_did_rollups r on r.grain = x.grain and r.bucket >= x.s and r.bucket < x.e
    join dids d on d.number = r.did and d.monthly_rent_micros > 0
    join report_did_months m on m.did = r.did and m.month = date_trunc('month', r.bucket at time zone 'UTC')::date
    where ($5::uuid is null or r.seller_id = $5::uuid) and ($6::uuid is null or r.campaign_id = $6::uuid)
      and $4::text is not null
    group by ${KEY[dim]}`;
  const rows = await sql.unsafe(full, rangeArgs(f) as never[]);
  const out = new Map<string | null, number>();
  for (const r of rows)
    out.set(dim === 'hour' || dim === 'day' ? String(r.key) : idOrNull(r.key), num(r.rent));
  return out;
}
