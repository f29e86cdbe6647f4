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

const ordinals = (n: number) => Array.from({ length: n }, (_, i) => i + 1).join(', ');

/** A key column and its value for a call `c`; a missing id is NONE. */
type KeyCol = [column: string, value: string];
const orNone = (col: string): KeyCol => [col, `coalesce(c.${col}, ${Z})`];

/** The calls' sums per bucket of each grain (`grains`: grain and width as VALUES) and key. */
function sums(table: string, keys: KeyCol[], grains: string): Part {
  const key = ['grain', 'bucket', ...keys.map(([col]) => col)];
  return {
    table,
    cols: [...key, ...SUM_COLS],
    key,
    select: (from) => `select g.grain, ${BIN}, ${keys.map(([, value]) => value).join(', ')},
      ${SUMS}
    from ${from} cross join ${grains} group by ${ordinals(key.length)}`,
    merge: SUM_COLS.map((k) => `${k} = ${table}.${k} + excluded.${k}`).join(', '),
  };
}

/**
 * Running counts of a DID's calls over the positions of a period (quarter-hours of a day, days of a
 * month): the calls per position (`positionOf`: 0 to positions - 1), then for i = 0..positions the
 * sum over the positions before i (a window over each key and period), so the calls between two
 * positions are one subtraction; a row added to an existing one adds position by position. The
 * migrations that filled these tables ran this very text (test/integration/reports-rollup-fill), so
 * its names stay as they were written there.
 */
function runningCounts(o: {
  table: string;
  /** The period's column, and its value for a call `c`. */
  period: string;
  periodOf: string;
  /** The position's name inside the statement, and its value for a call `c`. */
  position: string;
  positionOf: string;
  positions: number;
}): Part {
  const { table, period: p, position: pos } = o;
  const k = `k${p[0]}`;
  return {
    table,
    cols: [p, 'seller_id', 'campaign_id', 'did', 'calls'],
    key: [p, 'seller_id', 'campaign_id', 'did'],
    select: (from) => `select k.${p}, k.seller_id, k.campaign_id, k.did, array_agg(k.running order by k.i)
    from (
      with q as (
        select ${o.periodOf} as ${p}, coalesce(c.seller_id, ${Z}) as seller_id,
          coalesce(c.campaign_id, ${Z}) as campaign_id, c.did,
          ${o.positionOf} as ${pos}, count(*)::int as n
        from ${from} where c.did is not null group by 1, 2, 3, 4, 5
      )
      select ${k}.${p}, ${k}.seller_id, ${k}.campaign_id, ${k}.did, i.i,
        (sum(coalesce(q.n, 0)) over (partition by ${k}.${p}, ${k}.seller_id, ${k}.campaign_id, ${k}.did order by i.i))::int as running
      from (select distinct ${p}, seller_id, campaign_id, did from q) ${k}
      cross join generate_series(0, ${o.positions}) as i(i)
      left join q on q.${p} = ${k}.${p} and q.seller_id = ${k}.seller_id and q.campaign_id = ${k}.campaign_id
        and q.did = ${k}.did and q.${pos} = i.i - 1
    ) k group by 1, 2, 3, 4`,
    merge: `calls = (select array_agg(a + b order by i) from unnest(${table}.calls, excluded.calls) with ordinality as u(a, b, i))`,
  };
}

const PARTS: Part[] = [
  sums('report_campaign_rollups', [orNone('seller_id'), orNone('campaign_id')], GRAINS),
  sums(
    'report_link_rollups',
    [orNone('seller_id'), orNone('campaign_id'), orNone('client_id'), orNone('link_id')],
    HOURS_DAYS,
  ),
  sums(
    'report_did_rollups',
    [orNone('seller_id'), orNone('campaign_id'), ['did', `coalesce(c.did, '')`]],
    HOURS_DAYS,
  ),
  // Per quarter-hour of the UTC day: any local hour or day is two look-ups.
  runningCounts({
    table: 'report_did_days',
    period: 'day',
    periodOf: `(c.started_at at time zone 'UTC')::date`,
    position: 'qi',
    positionOf: `(floor(extract(epoch from c.started_at) / 900)::bigint % 96)::int`,
    positions: 96,
  }),
  // Per day of the UTC month: the rent spread's whole days.
  runningCounts({
    table: 'report_did_month_days',
    period: 'month',
    periodOf: `date_trunc('month', c.started_at at time zone 'UTC')::date`,
    position: 'di',
    positionOf: `extract(day from c.started_at at time zone 'UTC')::int - 1`,
    positions: 31,
  }),
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
