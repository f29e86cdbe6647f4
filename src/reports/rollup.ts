// The statement that adds calls to the report rollups (src/db/schema/reports.ts). The CDR writer runs
// it in the transaction that inserts the calls, over exactly the rows that insert added (a replayed
// journal adds nothing twice); the migration that created the rollups and bench/reports run it over
// calls already stored. Static SQL: `source` is a query chosen by our code, never by a request.

/** The all-zero uuid standing for "none" in rollup keys (key columns cannot be null). */
export const NONE = '00000000-0000-0000-0000-000000000000';

/**
 * One statement adding the calls that `source` selects (a query over call_records' columns) to every
 * rollup: three grains per call, names, and the DID's calls per UTC month. Rows are grouped (one upsert
 * per key) and sorted, so concurrent writers lock rollup rows in one order.
 */
export function rollupSql(source: string): string {
  const z = `'${NONE}'::uuid`;
  const sums = `count(*), count(c.answered_at), coalesce(sum(c.talk_s), 0), coalesce(sum(c.billable_s), 0),
      count(*) filter (where c.converted), coalesce(sum(c.payout_micros), 0), coalesce(sum(c.revenue_micros), 0),
      coalesce(sum(c.cost_micros), 0)`;
  const add = (
    t: string,
  ) => `calls = ${t}.calls + excluded.calls, answered = ${t}.answered + excluded.answered,
      talk_s = ${t}.talk_s + excluded.talk_s, billable_s = ${t}.billable_s + excluded.billable_s,
      conversions = ${t}.conversions + excluded.conversions, payout_micros = ${t}.payout_micros + excluded.payout_micros,
      revenue_micros = ${t}.revenue_micros + excluded.revenue_micros, cost_micros = ${t}.cost_micros + excluded.cost_micros`;
  const cols = 'calls, answered, talk_s, billable_s, conversions, payout_micros, revenue_micros, cost_micros';
  return `
with c as (${source}),
g(grain, width) as (values ('q', interval '15 minutes'), ('h', interval '1 hour'), ('d', interval '1 day')),
l as (
  insert into report_link_rollups (grain, bucket, seller_id, campaign_id, client_id, link_id, ${cols})
  select g.grain, date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00'),
    coalesce(c.seller_id, ${z}), coalesce(c.campaign_id, ${z}), coalesce(c.client_id, ${z}), coalesce(c.link_id, ${z}),
    ${sums}
  from c cross join g group by 1, 2, 3, 4, 5, 6 order by 1, 2, 3, 4, 5, 6
  on conflict (grain, bucket, seller_id, campaign_id, client_id, link_id) do update set ${add('report_link_rollups')}
  returning 1
),
d as (
  insert into report_did_rollups (grain, bucket, seller_id, campaign_id, did, ${cols})
  select g.grain, date_bin(g.width, c.started_at, timestamptz '2000-01-01 00:00:00+00'),
    coalesce(c.seller_id, ${z}), coalesce(c.campaign_id, ${z}), coalesce(c.did, ''),
    ${sums}
  from c cross join g group by 1, 2, 3, 4, 5 order by 1, 2, 3, 4, 5
  on conflict (grain, bucket, seller_id, campaign_id, did) do update set ${add('report_did_rollups')}
  returning 1
),
m as (
  insert into report_did_months (did, month, calls)
  select c.did, date_trunc('month', c.started_at at time zone 'UTC')::date, count(*)
  from c where c.did is not null group by 1, 2 order by 1, 2
  on conflict (did, month) do update set calls = report_did_months.calls + excluded.calls
  returning 1
),
n as (
  insert into report_names (kind, id, name)
  select distinct on (kind, id) kind, id, name from (
    select 'seller' as kind, c.seller_id as id, c.seller_name as name, c.started_at from c
    union all select 'campaign', c.campaign_id, c.campaign_name, c.started_at from c
    union all select 'client', c.client_id, c.client_name, c.started_at from c
  ) x where id is not null and name is not null
  order by kind, id, started_at desc
  on conflict (kind, id) do update set name = excluded.name where report_names.name <> excluded.name
  returning 1
)
select (select count(*) from l) as link_rows, (select count(*) from d) as did_rows`;
}
