// Call reports benchmark: seeds N call records (default 10M) in PostgreSQL with generate_series, fills
// the report rollups from them in bulk (the writer's arithmetic, src/reports/rollup.ts), then times
// typical reports through the service (the route adds only validation and JSON). Prints the seeding
// time per step, the table sizes, and per report the median and worst of R runs.
//   npx tsx bench/reports/run.ts [--calls 10000000] [--days 90] [--runs 5] [--chunk 1000000] [--jobs 2] [--keep]
//   npx tsx bench/reports/run.ts --reuse <database> [--runs 5]   (time reports on a kept database)
// Needs DATABASE_URL (eval "$(bash scripts/services.sh env)"); uses a database of its own.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { runMigrations } from '../../src/platform/db.ts';
import { rollupFillSql } from '../../src/reports/rollup.ts';
import type { ReportQuery } from '../../src/reports/schemas.ts';
import { ReportsService } from '../../src/reports/service.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '10000000' },
    days: { type: 'string', default: '90' },
    runs: { type: 'string', default: '5' },
    chunk: { type: 'string', default: '1000000' },
    jobs: { type: 'string', default: '2' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'string' },
    explain: { type: 'string' },
  },
});
const N = Number(values.calls);
const DAYS = Number(values.days);
const RUNS = Number(values.runs);
const CHUNK = Number(values.chunk);
// Seeding statements run this many at a time, each on its own connection (chunks of calls, index
// builds, rollup fills: independent of one another), so a host's cores are all used.
const JOBS = Math.max(1, Number(values.jobs));
const base = process.env.DATABASE_URL;
if (!base) throw new Error('set DATABASE_URL');

// --reuse: a database kept by an earlier run (--keep), migrated to this tree's schema (a migration
// that rebuilds rollups runs here, and its time is printed), then only the reports are timed.
const reuse = values.reuse;
const dbName = reuse ?? `bench_rep_${randomBytes(4).toString('hex')}`;
const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
if (!reuse) await admin.unsafe(`create database ${dbName}`);
const url = withDb(base, dbName);
const m0 = performance.now();
const { applied } = await runMigrations(url);
if (reuse) console.log(`${applied} migrations applied in ${((performance.now() - m0) / 1000).toFixed(0)} s`);
const pool = postgres(url, { max: Math.max(4, JOBS + 1), onnotice: () => {} });
const sql = pool;

// 20 sellers, 100 campaigns (5 each), 200 clients, 2 links per campaign, 1,000 DIDs (10 per campaign).
const END = Date.UTC(2026, 2, 1);
const START = END - DAYS * 86_400_000;
const CAMPAIGN = (await sql`select md5('c7')::uuid as id`)[0]!.id as string;
if (!reuse) await seed();

const svc = new ReportsService(sql);
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const q = (o: Partial<ReportQuery>): ReportQuery => ({
  group_by: 'campaign',
  from: day(END - 30 * 86_400_000),
  to: day(END),
  tz: 'UTC',
  format: 'json',
  ...o,
});
const reports: Array<[string, ReportQuery, string | null]> = [
  ['30 days by campaign, UTC', q({}), null],
  ['30 days by day, Asia/Kolkata', q({ group_by: 'day', tz: 'Asia/Kolkata' }), null],
  [
    '7 days by hour, Asia/Kathmandu',
    q({ group_by: 'hour', tz: 'Asia/Kathmandu', from: day(END - 7 * 86_400_000) }),
    null,
  ],
  [`${DAYS} days by seller, UTC`, q({ group_by: 'seller', from: day(START) }), null],
  ['30 days by DID, America/New_York', q({ group_by: 'did', tz: 'America/New_York' }), null],
  ['30 days by link, UTC', q({ group_by: 'link' }), null],
  ['30 days by day, seller key, America/New_York', q({ group_by: 'day', tz: 'America/New_York' }), null],
  ['30 days by day, Asia/Kathmandu', q({ group_by: 'day', tz: 'Asia/Kathmandu' }), null],
  ['30 days by seller, Australia/Eucla', q({ group_by: 'seller', tz: 'Australia/Eucla' }), null],
  ['30 days by client, Asia/Kolkata', q({ group_by: 'client', tz: 'Asia/Kolkata' }), null],
  [
    '7 days by hour, one campaign, Asia/Kolkata',
    q({ group_by: 'hour', tz: 'Asia/Kolkata', from: day(END - 7 * 86_400_000), campaign_id: CAMPAIGN }),
    null,
  ],
];
reports[6]![2] = (await sql`select md5('s3')::uuid as id`)[0]!.id as string;
// --explain <text>: for the reports whose name contains it, print EXPLAIN ANALYZE of each statement
// the service runs (through a wrapper around the connection), then time as usual.
const explaining = (name: string) => values.explain !== undefined && name.includes(values.explain);
// A statement run in a transaction (sql.begin) is explained inside it, with the transaction's settings.
const explaining_ = <T extends object>(
  target: T & { unsafe: (t: string, p?: never[]) => Promise<unknown> },
): T =>
  new Proxy(target, {
    get(t, prop, receiver) {
      if (prop === 'begin')
        return (cb: (tx: never) => unknown) =>
          (t as unknown as typeof sql).begin((tx) => cb(explaining_(tx as never) as never));
      if (prop !== 'unsafe') return Reflect.get(t, prop, receiver);
      return async (text: string, params?: never[]) => {
        if (!/^\s*set local/.test(text)) {
          const plan = (await t.unsafe(`explain (analyze, buffers) ${text}`, params)) as Array<
            Record<string, string>
          >;
          console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
        }
        return t.unsafe(text, params);
      };
    },
  });
const explainer = explaining_(sql);
for (const [name, query, scope] of reports) {
  if (explaining(name)) await new ReportsService(explainer).calls(query, scope);
  const ms: number[] = [];
  let rows = 0;
  for (let i = 0; i < RUNS; i++) {
    const a = performance.now();
    rows = (await svc.calls(query, scope)).items.length;
    ms.push(performance.now() - a);
  }
  ms.sort((x, y) => x - y);
  console.log(
    `${name.padEnd(46)} rows ${String(rows).padStart(5)}  median ${ms[Math.floor(ms.length / 2)]!.toFixed(0).padStart(5)} ms  worst ${ms[ms.length - 1]!.toFixed(0).padStart(5)} ms`,
  );
}
await sql.end();
if (reuse || values.keep) console.log(`kept database ${dbName}`);
else await admin.unsafe(`drop database ${dbName} with (force)`);
await admin.end();

async function seed() {
  // One connection for the reference data, the index drops and the vacuum; the heavy statements run
  // on connections of their own (below).
  const sql = await pool.reserve();
  await sql.unsafe(`
  insert into sellers (id, name) select md5('s' || i)::uuid, 'seller ' || i from generate_series(0, 19) i;
  insert into campaigns (id, seller_id, name) select md5('c' || i)::uuid, md5('s' || (i % 20))::uuid, 'campaign ' || i
    from generate_series(0, 99) i;
  insert into clients (id, name, endpoint) select md5('k' || i)::uuid, 'client ' || i, 'client-' || i from generate_series(0, 199) i;
  insert into campaign_links (id, campaign_id, client_id) select md5('l' || i)::uuid, md5('c' || (i / 2))::uuid, md5('k' || i)::uuid
    from generate_series(0, 199) i;
  insert into dids (number, seller_id, campaign_id, monthly_rent_micros)
    select '+1415' || lpad(i::text, 7, '0'), md5('s' || ((i / 10) % 20))::uuid, md5('c' || (i / 10))::uuid, 1500000
    from generate_series(0, 999) i;`);

  // Seeding: the calls with generate_series in chunks, the secondary indexes of call_records dropped
  // meanwhile and built once at the end; then each rollup filled in one statement (rollupFillSql, the
  // writer's arithmetic without the upsert). Each of these runs on one of JOBS connections, each with
  // a generous work_mem for its grouping (these sessions only).
  const conns = await Promise.all(Array.from({ length: JOBS }, () => pool.reserve()));
  for (const c of conns) await c.unsafe(`set work_mem = '512MB'; set maintenance_work_mem = '1GB'`);
  /** Runs every task, JOBS at a time, each on a connection of its own. */
  const parallel = async (tasks: Array<(c: typeof sql) => Promise<void>>) => {
    let next = 0;
    await Promise.all(
      conns.map(async (c) => {
        while (next < tasks.length) await tasks[next++]!(c as typeof sql);
      }),
    );
  };
  const sec = await sql<{ name: string; def: string }[]>`
  select i.indexname as name, i.indexdef as def from pg_indexes i
  where i.tablename = 'call_records' and not exists (
    select 1 from pg_constraint k where k.conname = i.indexname)`;
  for (const ix of sec) await sql.unsafe(`drop index ${ix.name}`);
  const t0 = performance.now();
  let inserted = 0;
  const chunks: Array<[number, number]> = [];
  for (let lo = 0; lo < N; lo += CHUNK) chunks.push([lo, Math.min(N, lo + CHUNK) - 1]);
  await parallel(
    chunks.map(([lo, hi]) => async (c) => {
      // Call i: DID i % 1000 (its campaign and seller follow), answered 70 %, converted half of those.
      await c.unsafe(`
    insert into call_records (call_id, node_id, seller_id, seller_name, campaign_id, campaign_name, did, caller_number,
      client_id, client_name, link_id, started_at, answered_at, ended_at, duration_s, talk_s, billable_s, disposition,
      attempts, converted, payout_micros, revenue_micros, cost_micros)
    select 'b' || i, 'n1', md5('s' || ((d / 10) % 20))::uuid, 'seller ' || ((d / 10) % 20),
      md5('c' || (d / 10))::uuid, 'campaign ' || (d / 10), '+1415' || lpad(d::text, 7, '0'), '+1212555' || lpad((i % 10000)::text, 4, '0'),
      case when ans then md5('k' || ((d / 10) * 2 + i % 2))::uuid end, case when ans then 'client ' || ((d / 10) * 2 + i % 2) end,
      case when ans then md5('l' || ((d / 10) * 2 + i % 2))::uuid end,
      t, case when ans then t + interval '5 seconds' end, t + make_interval(secs => 5 + talk), 5 + talk, talk, talk,
      case when ans then 'answered' else 'no_client' end, '[]'::jsonb,
      conv, case when conv then 10000000 else 0 end, case when conv then 25000000 else 0 end, talk * 142
    from (select i, i % 1000 as d, (i % 10) < 7 as ans, (i % 10) < 7 and (i % 2) = 0 as conv,
            case when (i % 10) < 7 then 30 + (i * 7919) % 600 else 0 end as talk,
            to_timestamp(${START / 1000} + (i::float8 / ${N}) * ${DAYS * 86400}) as t
          from generate_series(${lo}::bigint, ${hi}) i) x`);
      inserted += hi - lo + 1;
      process.stdout.write(
        `  inserted ${inserted} calls (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`,
      );
    }),
  );
  const callsS = (performance.now() - t0) / 1000;
  const i0 = performance.now();
  await parallel(sec.map((ix) => async (c) => void (await c.unsafe(ix.def))));
  const indexS = (performance.now() - i0) / 1000;
  const r0 = performance.now();
  const fillS: string[] = [];
  // The longest fills first (as measured at 10M), so the last one to start is a short one.
  const order = ['report_did_days', 'report_campaign_rollups', 'report_did_rollups', 'report_link_rollups'];
  const rank = (t: string) => (order.includes(t) ? order.indexOf(t) : order.length);
  const fills = rollupFillSql().sort((x, y) => rank(x.table) - rank(y.table));
  await parallel(
    fills.map((f) => async (c) => {
      const a = performance.now();
      await c.unsafe(f.sql);
      fillS.push(`${f.table} ${((performance.now() - a) / 1000).toFixed(0)} s`);
    }),
  );
  for (const c of conns) c.release();
  const rollupS = (performance.now() - r0) / 1000;
  const v0 = performance.now();
  await sql`vacuum analyze`;
  const vacuumS = (performance.now() - v0) / 1000;
  const seedS = (performance.now() - t0) / 1000;
  const sizes = await sql<{ table: string; rows: number; mb: number }[]>`
  select c.relname as table, c.reltuples::bigint::float8 as rows, (pg_total_relation_size(c.oid) / 1048576)::int as mb
  from pg_class c where c.relkind = 'r' and (c.relname = 'call_records' or c.relname like 'report_%') order by 1`;
  console.log(
    `seeded ${N} calls over ${DAYS} days in ${seedS.toFixed(0)} s: calls ${callsS.toFixed(0)} s, indexes ${indexS.toFixed(0)} s,` +
      ` rollups ${rollupS.toFixed(0)} s (${fillS.join(', ')}), vacuum analyze ${vacuumS.toFixed(0)} s; ${JOBS} at a time`,
  );
  for (const t of sizes)
    console.log(`  ${t.table.padEnd(22)} ${String(t.rows).padStart(10)} rows ${String(t.mb).padStart(6)} MB`);
  sql.release();
}
