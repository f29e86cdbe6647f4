// Calls nobody saw: a caller enters our app and hangs up while no instance of the daemon runs, so
// nothing of the call is left in Asterisk, Redis or our records — only Asterisk's own CDR
// (cdr_pgsql, which the simulator writes as Asterisk does). After a restart the daemon reads those
// back and writes each such call exactly one CDR (`ended_unseen`, no client, no slot), and never a
// second one: not on later passes, not from another instance, not for calls it did record.
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrWriter } from '../../src/cdr/writer.ts';
import { createDatabase, type Db } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { RouteCatalog } from '../../src/routing/catalog.ts';
import { RoutingMetrics } from '../../src/routing/metrics.ts';
import { SlotStore } from '../../src/routing/slots.ts';
import { UnseenCalls, unseenCallId } from '../../src/routing/unseen.ts';
import { pgsqlTime } from '../../src/simulator/cdr.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, journalDir } from '../helpers/env.ts';
import { daemonEnv, spawnDaemon } from '../helpers/daemon-process.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('calls that began and ended while no daemon ran', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  const did = '+14155557300';
  const endpoint = 'unseen-client';
  let linkId = '';
  let sellerId = '';
  let dir = '';

  beforeAll(async () => {
    db = await freshDatabase();
    dir = journalDir();
    const seeded = await seedCampaign(db.url, {
      campaign: { maxAttempts: 1 },
      dids: [did],
      clients: [endpoint],
      link: { concurrencyCap: 5 },
    });
    sellerId = seeded.sellerId;
    linkId = seeded.links[0]!.linkId;
  });
  afterAll(async () => {
    await db?.drop();
  });

  const log = createLogger({ level: 'silent' });
  /** An instance's reader of a node's records in `asterisk_cdr` (grace 1 s), writing through `writer`. */
  const reader = (x: Db, writer: CdrWriter, node: string, now: () => number) =>
    new UnseenCalls({
      db: x,
      cdr: writer,
      catalog: new RouteCatalog(x, 5000),
      apps: ['capconduit'],
      tables: new Map([[node, 'asterisk_cdr']]),
      graceMs: 1000,
      metrics: new RoutingMetrics(
        new Registry(),
        () => [],
        () => 0,
      ),
      log,
      now,
    });

  it('kill -9, callers in and out of the app meanwhile, restart: every call has exactly one CDR', async () => {
    const sim = await startSimulator({ ariPort: 0, amiPort: 0, cdrDatabaseUrl: db.url });
    sim.setEndpoint(endpoint, { answerAfterMs: 20 });
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
    const env = daemonEnv({
      databaseUrl: db.url,
      redisPrefix: prefix,
      sim,
      nodeId: 'node-unseen',
      cdrDir: dir,
      extra: { RECONCILE_INTERVAL_S: '1', UNSEEN_CALLS_GRACE_S: '1' },
    });
    const start = () => spawnDaemon(env);
    const { sql, close } = createDatabase(db.url, { max: 1 });
    const cdrsOf = (caller: string) =>
      sql<{ call_id: string; disposition: string; link_id: string | null; attempts: unknown[] }[]>`
        select call_id, disposition, link_id, attempts from call_records where caller_number = ${caller}`;
    let p = start();
    try {
      // Until the daemon holds the Stasis app and has made its first pass on the node (which only
      // marks where reading Asterisk's records starts).
      await waitFor(async () => {
        const [m] = await sql`select 1 from unseen_call_sweeps where node_id = 'node-unseen'`;
        return m;
      }, 120_000);
      // A call the daemon sees through: its own CDR, and none from Asterisk's record of it.
      const seen = sim.placeInboundCall({ did, callerNumber: '+13105550000' });
      await waitFor(() => (sim.hears(seen) === 'bridge' ? true : undefined));
      sim.hangup(seen, 16);
      const [own] = await waitFor(async () => {
        const r = await cdrsOf('+13105550000');
        return r.length === 1 ? r : undefined;
      });
      expect(own!.disposition).toBe('answered');

      // The daemon stops reading (frozen, then killed): callers enter the app (the WebSocket is
      // still open, so Stasis() takes them; their StasisStart reaches no living process) and hang up.
      p.proc.kill('SIGSTOP');
      const callers = [1, 2, 3].map((i) => `+1310555000${i}`);
      const ids = callers.map((callerNumber) => sim.placeInboundCall({ did, callerNumber }));
      await waitFor(() =>
        ids.every((id) => sim.liveChannels().find((c) => c.id === id)?.dialplan) ? true : undefined,
      );
      for (const id of ids) sim.hangup(id, 16);
      await waitFor(async () => {
        const r = await sql`select 1 from asterisk_cdr where uniqueid in ${sql(ids)} and lastapp = 'Stasis'`;
        return r.length === 3 ? true : undefined;
      });
      await p.kill();
      p = start();

      const rows = await waitFor(async () => {
        const all = await Promise.all(callers.map(cdrsOf));
        return all.every((r) => r.length === 1) ? all.map((r) => r[0]!) : undefined;
      }, 120_000);
      for (const [i, r] of rows.entries()) {
        expect(r).toMatchObject({ disposition: 'ended_unseen', link_id: null, attempts: [] });
        expect(r.call_id).toBe(unseenCallId('node-unseen', ids[i]!));
      }
      const [full] = await sql<{ seller_id: string; did: string }[]>`
        select seller_id, did from call_records where call_id = ${rows[0]!.call_id}`;
      expect(full).toEqual({ seller_id: sellerId, did });
      // No slot taken, no answer counted.
      expect(await slots.live(linkId)).toBe(0);
      // The answered total is the seen call's alone (it is written from Redis within a second).
      await waitFor(async () => {
        const [link] = await sql<{ total_answered: number }[]>`
          select total_answered from campaign_links where id = ${linkId}`;
        return Number(link!.total_answered) === 1 ? true : undefined;
      });

      // Later passes (another restart, and passes after it) read the same records again: still one each.
      await p.kill();
      const restartedAt = new Date();
      p = start();
      await waitFor(async () => {
        const [m] = await sql<{ swept_to: string }[]>`
          select swept_to from unseen_call_sweeps where node_id = 'node-unseen'`;
        return m && new Date(m.swept_to) > restartedAt ? true : undefined;
      }, 120_000);
      for (const c of [...callers, '+13105550000']) expect(await cdrsOf(c)).toHaveLength(1);
    } finally {
      await p.kill();
      redis.disconnect();
      await close();
      await sim.stop();
    }
  }, 300_000);

  it('two instances reading the same records write each call once, and only calls in our app', async () => {
    const { db: x, sql, close } = createDatabase(db.url, { max: 4 });
    const node = 'node-two';
    const t0 = Date.now() - 10 * 60_000;
    // Where reading starts on this node (as a first pass leaves it).
    await sql`insert into unseen_call_sweeps (node_id, swept_to) values (${node}, ${new Date(t0).toISOString()})`;
    const row = (id: string, lastapp: string, lastdata: string, endAt: number) => ({
      uniqueid: id,
      src: `+1212${id.replace(/\D/g, '').padStart(7, '0').slice(-7)}`,
      dst: did.slice(1),
      dcontext: 'from-carrier',
      channel: `PJSIP/carrier-${id}`,
      lastapp,
      lastdata,
      start: pgsqlTime(endAt - 5000),
      end: pgsqlTime(endAt),
      duration: 5,
      billsec: 0,
      disposition: 'NO ANSWER',
      sequence: 1,
    });
    const at = t0 + 120_000;
    const recorded = 'two-recorded';
    await sql`insert into asterisk_cdr ${sql([
      row('two-a', 'Stasis', 'capconduit,inbound', at),
      row('two-b', 'StasisBroadcast', '500,^capconduit-,inbound', at + 1000),
      // A caller whose call is in progress on an instance (known to it): not judged.
      row('two-live', 'Stasis', 'capconduit,inbound', at),
      // Not ours: an outbound call in our app, another app, a caller that never reached Stasis,
      // a call we recorded ourselves, one before where reading starts.
      row('two-out', 'Stasis', 'capconduit,outbound,SALES01', at),
      row('two-other', 'Stasis', 'otherapp,inbound', at),
      row('two-failed', 'Hangup', '34', at),
      row(recorded, 'Stasis', 'capconduit,inbound', at),
      row('two-old', 'Stasis', 'capconduit,inbound', t0 - 120_000),
    ])}`;
    await sql`insert into call_records (call_id, node_id, caller_channel_id, started_at, ended_at, duration_s,
        billable_s, disposition, attempts) values ('mine', ${node}, ${recorded}, now(), now(), 0, 0, 'all_failed', '[]')`;
    const instance = (i: number) => {
      const writer = new CdrWriter(sql, join(dir, `two-${i}`), `i${i}`, log, 50);
      return { writer, unseen: reader(x, writer, node, Date.now) };
    };
    const a = instance(1);
    const b = instance(2);
    try {
      const live = (id: string) => id === 'two-live';
      const written = await Promise.all([a.unseen.sweep(node, live), b.unseen.sweep(node, live)]);
      // Each pass finds the two calls, or nothing when the other already moved the node's mark past
      // them (which one reads first is up to the machine); between them both calls are found, and
      // below each is in call_records once all the same.
      for (const w of written) expect([0, 2]).toContain(w);
      expect(written[0]! + written[1]!).toBeGreaterThanOrEqual(2);
      await Promise.all([a.writer.flush(), b.writer.flush()]);
      const got = await sql<{ caller_channel_id: string; call_id: string }[]>`
        select caller_channel_id, call_id from call_records where node_id = ${node} order by 1`;
      expect(got).toEqual([
        { caller_channel_id: 'two-a', call_id: unseenCallId(node, 'two-a') },
        { caller_channel_id: 'two-b', call_id: unseenCallId(node, 'two-b') },
        { caller_channel_id: recorded, call_id: 'mine' },
      ]);
      // Once written, a pass finds nothing more to write.
      expect(await a.unseen.sweep(node, live)).toBe(0);
    } finally {
      await a.writer.stop();
      await b.writer.stop();
      await close();
    }
  });

  it('a caller with a record per client it was bridged with is one call, from its first start to its hangup', async () => {
    const { db: x, sql, close } = createDatabase(db.url, { max: 2 });
    const node = 'node-chain';
    const t0 = Math.floor((Date.now() - 3_600_000) / 1000) * 1000;
    const s = (sec: number) => t0 + sec * 1000;
    // The pass ends where the clock says; the mark leaves the window at [mark - 60 s, now - 1 s).
    let now = s(200);
    await sql`insert into unseen_call_sweeps (node_id, swept_to) values (${node}, ${new Date(s(130)).toISOString()})`;
    const piece = (id: string, from: number, to: number, answer: number | null, partyB: string) => ({
      uniqueid: id,
      src: `+1310555${id === 'chain-a' ? '7001' : '7002'}`,
      dst: did.slice(1),
      dcontext: 'from-carrier',
      channel: `PJSIP/carrier-${id}`,
      dstchannel: partyB,
      lastapp: 'Stasis',
      lastdata: 'capconduit,inbound',
      start: pgsqlTime(from),
      answer: answer === null ? null : pgsqlTime(answer),
      end: pgsqlTime(to),
      duration: (to - from) / 1000,
      billsec: answer === null ? 0 : (to - answer) / 1000,
      disposition: answer === null ? 'NO ANSWER' : 'ANSWERED',
      sequence: 1,
    });
    await sql`insert into asterisk_cdr ${sql([
      // Answered by a first client at 15 s, sent on to two more as each hung up; the caller hung up
      // at 100 s. Its first record ended before the window this pass reads.
      piece('chain-a', s(10), s(40), s(15), 'PJSIP/c1-1'),
      piece('chain-a', s(40), s(70), s(40), 'PJSIP/c2-1'),
      piece('chain-a', s(70), s(100), s(70), 'PJSIP/c3-1'),
      // A caller whose last record ended within the grace: judged by a later pass, whole.
      piece('chain-late', s(80), s(110), s(81), 'PJSIP/c1-2'),
      piece('chain-late', s(110), s(199), s(110), 'PJSIP/c2-2'),
    ])}`;
    const writer = new CdrWriter(sql, join(dir, 'chain'), 'chain', log, 50);
    const unseen = reader(x, writer, node, () => now);
    const cdrs = async () => {
      await writer.flush();
      const ms = (c: string) => sql.unsafe(`(extract(epoch from ${c}) * 1000)::float8`);
      return sql<{ caller_channel_id: string; started: number; answered: number | null; ended: number }[]>`
        select caller_channel_id, ${ms('started_at')} as started, ${ms('answered_at')} as answered,
               ${ms('ended_at')} as ended
          from call_records where node_id = ${node} order by caller_channel_id`;
    };
    try {
      expect(await unseen.sweep(node, () => false)).toBe(1);
      expect(await cdrs()).toEqual([
        {
          caller_channel_id: 'chain-a',
          started: s(10),
          answered: s(15),
          ended: s(100),
        },
      ]);
      now = s(260);
      expect(await unseen.sweep(node, () => false)).toBe(1);
      expect((await cdrs())[1]).toEqual({
        caller_channel_id: 'chain-late',
        started: s(80),
        answered: s(81),
        ended: s(199),
      });
      expect(await unseen.sweep(node, () => false)).toBe(0);
    } finally {
      await writer.stop();
      await close();
    }
  });
});
