// The statements that add calls to the report rollups (src/db/schema/reports.ts). The CDR writer runs
// `rollupSql` in the transaction that inserts the calls, over exactly the rows that insert added (a
// replayed journal adds nothing twice); bench/reports and a migration fill empty rollups from every
// stored call with `rollupFillSql`. Both are built from the one list of SELECTs below, so the bulk
// fill and the per-batch write do the same arithmetic. Static SQL: `source` is a query chosen by our
// code, never by a request.

/** The all-zero uuid standing for "none" in rollup keys (key columns cannot be null). */
export const NONE = '00000000-0000-0000-0000-000000000000';

const Z = `'${NONE}'::uuid`;
const SUM_COLS = [
  'calls',
  'answered',
  'talk_s',
  'billable_s',
  'conversions',
  'payout_micros',
  'revenue_micros',
  'cost_micros',
] as const;
const SUMS = `count(*), count(c.answered_at), coalesce(sum(c.talk_s), 0), coalesce(sum(c.billable_s), 0),
      count(*) filter (where c.converted), coalesce(sum(c.payout_micros), 0), coalesce(sum(c.revenue_micros), 0),
      coalesce(sum(c.cost_micros), 0)`;
const GRAINS = `(values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')) as g(grain, width)`;
/** Hours and days only: the link and DID rollups (their quarter-hours are read from the calls). */
const HOURS_DAYS = `(values ('h', interval '1 hour'), ('d', interval '1 day')) as g(grain, width)`;
const BIN = `date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00')`;

interface Part {
  table: string;
  cols: string[];
  /** Rows to add, from calls `c` (`from` names them): grouped, one row per key. */
  select: (from: string) => string;
  /** The key the upsert conflicts on, and how an existing row takes the added one. */
  key: string[];
  merge: string;
}

const addSums = (t: string) => SUM_COLS.map((k) => `${k} = ${t}.${k} + excluded.${k}`).join(', ');
const ordinals = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(', ');

const PARTS: Part[] = [
  {
    table: 'report_campaign_rollups',
    cols: ['grain', 'bucket', 'seller_id', 'campaign_id', ...SUM_COLS],
    key: ['grain', 'bucket', 'seller_id', 'campaign_id'],
    select: (from) => `select g.grain, ${BIN}, coalesce(c.seller_id, ${Z}), coalesce(c.campaign_id, ${Z}),
      ${SUMS}
    from ${from} cross join ${GRAINS} group by ${ordinals(4)}`,
    merge: addSums('report_campaign_rollups'),
  },
  {
    table: 'report_link_rollups',
    cols: ['grain', 'bucket', 'seller_id', 'campaign_id', 'client_id', 'link_id', ...SUM_COLS],
    key: ['grain', 'bucket', 'seller_id', 'campaign_id', 'client_id', 'link_id'],
    select: (from) => `select g.grain, ${BIN},
      coalesce(c.seller_id, ${Z}), coalesce(c.campaign_id, ${Z}), coalesce(c.client_id, ${Z}), coalesce(c.link_id, ${Z}),
      ${SUMS}
    from ${from} cross join ${HOURS_DAYS} group by ${ordinals(6)}`,
    merge: addSums('report_link_rollups'),
  },
  {
    table: 'report_did_rollups',
    cols: ['grain', 'bucket', 'seller_id', 'campaign_id', 'did', ...SUM_COLS],
    key: ['grain', 'bucket', 'seller_id', 'campaign_id', 'did'],
    select: (from) => `select g.grain, ${BIN},
      coalesce(c.seller_id, ${Z}), coalesce(c.campaign_id, ${Z}), coalesce(c.did, ''),
      ${SUMS}
    from ${from} cross join ${HOURS_DAYS} group by ${ordinals(5)}`,
    merge: addSums('report_did_rollups'),
  },
  {
    // Running counts per quarter-hour of the UTC day: the calls per quarter (qi, 0-95), then for
    // i = 0..96 the sum over quarters before i (a window over the 97 positions of each key and day).
    table: 'report_did_days',
    cols: ['day', 'seller_id', 'campaign_id', 'did', 'calls'],
    key: ['day', 'seller_id', 'campaign_id', 'did'],
    select: (from) => `select k.day, k.seller_id, k.campaign_id, k.did, array_agg(k.running order by k.i)
    from (
      with q as (
        select (c.started_at at time zone 'UTC')::date as day, coalesce(c.seller_id, ${Z}) as seller_id,
          coalesce(c.campaign_id, ${Z}) as campaign_id, c.did,
          (floor(extract(epoch from c.started_at) / 900)::bigint % 96)::int as qi, count(*)::int as n
        from ${from} where c.did is not null group by 1, 2, 3, 4, 5
      )
      select kd.day, kd.seller_id, kd.campaign_id, kd.did, i.i,
        (sum(coalesce(q.n, 0)) over (partition by kd.day, kd.seller_id, kd.campaign_id, kd.did order by i.i))::int as running
      from (select distinct day, seller_id, campaign_id, did from q) kd
      cross join generate_series(0, 96) as i(i)
      left join q on q.day = kd.day and q.seller_id = kd.seller_id and q.campaign_id = kd.campaign_id
        and q.did = kd.did and q.qi = i.i - 1
    ) k group by 1, 2, 3, 4`,
    merge:
      'calls = (select array_agg(a + b order by i) from unnest(report_did_days.calls, excluded.calls) with ordinality as u(a, b, i))',
  },
  {
    // Running counts per day of the UTC month: the calls per day (di, 0-30), then for i = 0..31 the
    // sum over days before i (as report_did_days, a day per position instead of a quarter-hour).
    table: 'report_did_month_days',
    cols: ['month', 'seller_id', 'campaign_id', 'did', 'calls'],
    key: ['month', 'seller_id', 'campaign_id', 'did'],
    select: (from) => `select k.month, k.seller_id, k.campaign_id, k.did, array_agg(k.running order by k.i)
    from (
      with q as (
        select date_trunc('month', c.started_at at time zone 'UTC')::date as month, coalesce(c.seller_id, ${Z}) as seller_id,
          coalesce(c.campaign_id, ${Z}) as campaign_id, c.did,
          extract(day from c.started_at at time zone 'UTC')::int - 1 as di, count(*)::int as n
        from ${from} where c.did is not null group by 1, 2, 3, 4, 5
      )
      select km.month, km.seller_id, km.campaign_id, km.did, i.i,
        (sum(coalesce(q.n, 0)) over (partition by km.month, km.seller_id, km.campaign_id, km.did order by i.i))::int as running
      from (select distinct month, seller_id, campaign_id, did from q) km
      cross join generate_series(0, 31) as i(i)
      left join q on q.month = km.month and q.seller_id = km.seller_id and q.campaign_id = km.campaign_id
        and q.did = km.did and q.di = i.i - 1
    ) k group by 1, 2, 3, 4`,
    merge:
      'calls = (select array_agg(a + b order by i) from unnest(report_did_month_days.calls, excluded.calls) with ordinality as u(a, b, i))',
  },
  {
    table: 'report_did_months',
    cols: ['did', 'month', 'calls'],
    key: ['did', 'month'],
    select: (from) => `select c.did, date_trunc('month', c.started_at at time zone 'UTC')::date, count(*)
    from ${from} where c.did is not null group by 1, 2`,
    merge: 'calls = report_did_months.calls + excluded.calls',
  },
];

/**
 * The latest name each seller, campaign and client had on the calls `from` holds: the last start of
 * each (id, name) first, then the name with the latest (a hash aggregate, not a sort of every call).
 */
const namesSelect = (from: string) => `select distinct on (kind, id) kind, id, name from (
    select kind, id, name, max(started_at) as started_at from (
      select 'seller' as kind, c.seller_id as id, c.seller_name as name, c.started_at from ${from}
      union all select 'campaign', c.campaign_id, c.campaign_name, c.started_at from ${from}
      union all select 'client', c.client_id, c.client_name, c.started_at from ${from}
    ) x where id is not null and name is not null group by 1, 2, 3
  ) y order by kind, id, started_at desc`;

/**
 * One statement adding the calls that `source` selects (a query over call_records' columns) to every
 * rollup. Rows are grouped (one upsert per key) and sorted, so concurrent writers lock rollup rows in
 * one order.
 */
export function rollupSql(source: string): string {
  const ctes = PARTS.map(
    (p, i) => `p${i} as (
  insert into ${p.table} (${p.cols.join(', ')})
  ${p.select('c')} order by ${ordinals(p.key.length)}
  on conflict (${p.key.join(', ')}) do update set ${p.merge}
  returning 1
)`,
  );
  return `
with c as (${source}),
${ctes.join(',\n')},
n as (
  insert into report_names (kind, id, name)
  ${namesSelect('c')}
  on conflict (kind, id) do update set name = excluded.name where report_names.name <> excluded.name
  returning 1
)
select ${PARTS.map((p, i) => `(select count(*) from p${i}) as ${p.table}`).join(', ')}`;
}

/** The rollup tables, for emptying them before a fill. */
export const ROLLUP_TABLES = [...PARTS.map((p) => p.table), 'report_names'];

/**
 * Statements filling empty rollups from every stored call, one per table (a table can be filled in
 * one pass with no upsert, which is what makes 10 million calls take minutes, not hours).
 */
export function rollupFillSql(): Array<{ table: string; sql: string }> {
  return [
    ...PARTS.map((p) => ({
      table: p.table,
      sql: `insert into ${p.table} (${p.cols.join(', ')}) ${p.select('call_records c')}`,
    })),
    {
      table: 'report_names',
      sql: `insert into report_names (kind, id, name) ${namesSelect('call_records c')}`,
    },
  ];
}
