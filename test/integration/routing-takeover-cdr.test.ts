// Invariants 4 and 7 together: a daemon killed -9 with calls bridged, whose callers hang up while no
// daemon runs, finds the client legs left in Asterisk when it starts again, ends them, frees their
// slots and writes every call's CDR, though it no longer knows the caller (nor so the DID and plan).
// Each CDR names the caller's channel (the legs say which it was), so reading Asterisk's own CDRs
// back (calls nobody saw) finds these calls recorded and writes no second CDR for them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/platform/db.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { SlotStore } from '../../src/routing/slots.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, journalDir } from '../helpers/env.ts';
import { appRegistered, daemonEnv, spawnDaemon } from '../helpers/daemon-process.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('takeover of calls whose callers left while no daemon ran', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const prefix = redisPrefix();
  const did = '+14155557100';
  const endpoint = 'takeover-cdr-client';
  let linkId = '';
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
    linkId = seeded.links[0]!.linkId;
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('ends the client legs left up, frees their slots and writes each call its CDR', async () => {
    const sim = await startSimulator({ ariPort: 0, amiPort: 0, cdrDatabaseUrl: db.url });
    sim.setEndpoint(endpoint, { answerAfterMs: 20 }); // answers and stays up
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const slots = new SlotStore(redis, new RedisKeys(prefix), 60_000);
    const env = daemonEnv({
      databaseUrl: db.url,
      redisPrefix: prefix,
      sim,
      nodeId: 'node-left',
      cdrDir: dir,
      // The restarted process is another instance: it takes the killed one's legs over once that
      // one's heartbeat is INSTANCE_DEAD_AFTER_S old (2 s, the least the daemon accepts; 15 by default).
      extra: { RECONCILE_INTERVAL_S: '1', UNSEEN_CALLS_GRACE_S: '1', INSTANCE_DEAD_AFTER_S: '2' },
    });
    const start = () => spawnDaemon(env);
    const { sql, close } = createDatabase(db.url, { max: 1 });
    let p = start();
    try {
      // Until the daemon holds the Stasis app (a call placed before would find none).
      await appRegistered(sim);
      // The first pass that reads Asterisk's CDRs back has set where reading starts.
      await waitFor(async () => (await sql`select 1 from unseen_call_sweeps`).length === 1 || undefined);
      const callers = [0, 1, 2].map((i) =>
        sim.placeInboundCall({ did, callerNumber: `+1310888${1000 + i}` }),
      );
      // 3 calls: each a Local pair (;1 + ;2) and a client leg, all answered.
      await waitFor(() =>
        sim.liveChannels().filter((c) => c.state === 'Up').length === 9 ? true : undefined,
      );
      await p.kill();
      // The callers hang up while nobody watches; the client legs stay in Stasis.
      for (const id of callers) sim.hangup(id, 16);
      await waitFor(() => (sim.channelCount('Local/') === 0 ? true : undefined));
      expect(sim.channelCount(`PJSIP/${endpoint}-`)).toBe(3);
      p = start();
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), 120_000);
      await waitFor(async () => ((await slots.live(linkId)) === 0 ? true : undefined));
      const rows = await waitFor(async () => {
        const r = await sql<{ disposition: string }[]>`
          select disposition from call_records where link_id = ${linkId}`;
        return r.length === 3 ? r : undefined;
      });
      expect(rows.map((r) => r.disposition)).toEqual(['answered', 'answered', 'answered']);
      // A pass reading Asterisk's records back after these CDRs were written (the calls' state gone
      // from Redis with them) finds the three callers recorded: still one CDR each, naming them.
      expect(
        (await sql`select 1 from asterisk_cdr where uniqueid in ${sql(callers)} and lastapp = 'Stasis'`)
          .length,
      ).toBe(3);
      const written = new Date(Date.now() + 1000).toISOString();
      await waitFor(async () => {
        const [m] = await sql<{ ok: boolean }[]>`
          select swept_to > ${written}::timestamptz as ok from unseen_call_sweeps`;
        return m?.ok || undefined;
      });
      const all = await sql<{ caller_channel_id: string }[]>`
        select caller_channel_id from call_records where did is distinct from '+10000000000' order by 1`;
      expect(all.map((r) => r.caller_channel_id)).toEqual([...callers].sort());
    } finally {
      await p.kill();
      redis.disconnect();
      await close();
      await sim.stop();
    }
  }, 300_000);
});
