// What the fault bench reads after each fault, from the system's own records only: Redis (live slot
// sets, totals waiting for PostgreSQL), Asterisk (the simulator's channels and its ARI bridge list),
// PostgreSQL (the CDR table, the answered totals) and the daemon's own gauge of calls it holds.
import type { Redis } from 'ioredis';
import type postgres from 'postgres';
import type { Simulator } from '../../src/simulator/index.ts';

export interface Snapshot {
  /** Calls the daemon says it holds (its gauge); NaN when it does not answer. */
  held: number;
  /** Calls whose state Redis still keeps (the per-node index of live calls). */
  recorded: number;
  /** Members of every live-slot set (links and the other cap owners). */
  slots: number;
  channels: number;
  bridges: number;
  /** Answered total in PostgreSQL and waiting in Redis, minus answered CDRs (0 when they agree). */
  totalsGap: number;
  /** Per caller number (each call of the bench has its own; the database is the bench's own), its CDRs. */
  cdrs: Map<string, number>;
  /** CDRs written from Asterisk's own records: callers that hung up in the app while no instance ran. */
  unseen: number;
}

export interface Sources {
  redis: Redis;
  prefix: string;
  sql: postgres.Sql;
  campaignId: string;
  sim: Simulator;
  daemonUrl: string;
}

/** One series' value summed over its labels, from the Prometheus text (NaN when absent). */
export function metricSum(text: string, name: string): number {
  let n = Number.NaN;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== ' ' && line[name.length] !== '{')) continue;
    n = (Number.isNaN(n) ? 0 : n) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return n;
}

async function scanCount(redis: Redis, match: string, count: (key: string) => Promise<number>) {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    for (const k of keys) n += await count(k);
  } while (cursor !== '0');
  return n;
}

export async function snapshot(s: Sources): Promise<Snapshot> {
  const base = `${s.prefix}:routing:{routing}`;
  const held = await fetch(`${s.daemonUrl}/metrics`, { signal: AbortSignal.timeout(3000) })
    .then((r) => r.text())
    .then((t) => metricSum(t, 'capconduit_inbound_calls_in_progress'))
    .catch(() => Number.NaN);
  // Glob specials are * ? [ ] and \ only: the braces of the hash tag match themselves.
  const slots = await scanCount(s.redis, `${base}:*:live`, (k) => s.redis.zcard(k));
  // Each live call's state is indexed per Asterisk node until its CDR is written.
  const recorded = await scanCount(s.redis, `${base}:node:*:calls`, (k) => s.redis.zcard(k));
  const pending = await s.redis.hgetall(`${base}:totals:pending`);
  let waiting = 0;
  for (const [k, v] of Object.entries(pending)) if (k.startsWith('link:')) waiting += Number(v);
  for (const id of await s.redis.smembers(`${base}:totals:batches`))
    for (const [k, v] of Object.entries(await s.redis.hgetall(`${base}:totals:batch:${id}`)))
      if (k.startsWith('link:')) waiting += Number(v);
  const auth = `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}`;
  const bridges = (
    (await (
      await fetch(`${s.sim.ariUrl}/ari/bridges`, { headers: { authorization: auth } })
    ).json()) as unknown[]
  ).length;
  const [t] = await s.sql<{ total: number; answered: number }[]>`
    select (select coalesce(sum(total_answered), 0)::int from campaign_links where campaign_id = ${s.campaignId}) as total,
           (select count(*)::int from call_records where campaign_id = ${s.campaignId} and disposition = 'answered') as answered`;
  const cdrs = new Map<string, number>();
  let unseen = 0;
  for (const r of await s.sql<{ caller: string; n: number; unseen: number }[]>`
    select caller_number as caller, count(*)::int as n,
           count(*) filter (where disposition = 'ended_unseen')::int as unseen
      from call_records group by 1`) {
    cdrs.set(r.caller, r.n);
    unseen += r.unseen;
  }
  return {
    held,
    recorded,
    slots,
    channels: s.sim.channelCount(),
    bridges,
    totalsGap: t!.total + waiting - t!.answered,
    cdrs,
    unseen,
  };
}
