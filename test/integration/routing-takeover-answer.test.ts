// A bridged call taken over after its daemon was killed -9 keeps the answer time its owner recorded
// in Redis (not the takeover's): the CDR's answered_at, its talk cap and end reason run from it, the
// maximum call length is set again in Asterisk for what is left of it (the limit the dead owner set
// is cleared here, as when it had to keep the limit itself), and the recording the owner started is
// followed to its end, so the CDR names it with its length. A recording that no longer runs at the
// takeover starts again, appended to the same file, and the CDR counts both parts (the first one's
// end was told to the dead owner: its length comes from the stored file).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase } from '../../src/platform/db.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, journalDir } from '../helpers/env.ts';
import { daemonEnv, spawnDaemon } from '../helpers/daemon-process.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('a bridged call taken over after a kill -9', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const did = '+14155557200';
  const openDid = '+14155557201';
  const endpoint = 'takeover-answer-client';
  const limitS = 15;
  let dir = '';

  beforeAll(async () => {
    db = await freshDatabase();
    dir = journalDir();
    const limited = await seedCampaign(db.url, {
      campaign: { maxAttempts: 1, maxCallS: limitS, recordCalls: true },
      dids: [did],
      clients: [endpoint],
    });
    // Recorded, with no maximum length: the call lasts until the test hangs it up.
    await seedCampaign(db.url, {
      sellerId: limited.sellerId,
      campaign: { name: 'open', maxAttempts: 1, recordCalls: true },
      dids: [openDid],
      clients: [{ clientId: limited.links[0]!.clientId }],
    });
  });
  afterAll(async () => {
    await db?.drop();
  });

  /**
   * What both tests run on: the simulator (the client answers and never hangs up), a Redis reader, the
   * database, and the daemon's start (killed -9 and started again by the tests); `stop` ends all but
   * the daemon.
   */
  async function world() {
    // A Redis prefix of its own: the previous test's killed daemon leaves its call records behind,
    // and this test's daemon must not spend its start taking those over.
    const prefix = redisPrefix();
    const keys = new RedisKeys(prefix).routing;
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.setEndpoint(endpoint, { answerAfterMs: 20 });
    const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    const env = daemonEnv({
      databaseUrl: db.url,
      redisPrefix: prefix,
      sim,
      nodeId: 'node-answer',
      cdrDir: dir,
      extra: { INSTANCE_DEAD_AFTER_S: '2', RECONCILE_INTERVAL_S: '1' },
    });
    const auth = { authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` };
    const { sql, close } = createDatabase(db.url, { max: 1 });
    return {
      sim,
      sql,
      auth,
      start: () => spawnDaemon(env),
      /**
       * Calls `to` until one is bridged (the first may come before the daemon holds the app) and its
       * owner has recorded the answer in Redis: the caller's channel id and the call's stored hash.
       * Bridged is the caller and the client's leg both up, a state that lasts as long as the call.
       * (Not a count of the channels up: the recording's own pair joins the caller's two halves and
       * the leg a moment after the answer, so a count of three holds only for that moment and a
       * poll that missed it waited for it in vain.)
       */
      async bridged(to: string, callerNumber: string) {
        const caller = await waitFor(async () => {
          const id = sim.placeInboundCall({ did: to, callerNumber });
          const r = await waitFor(() => {
            const live = sim.liveChannels();
            const me = live.find((c) => c.id === id);
            if (!me) return 'gone' as const;
            const leg = live.some((c) => c.name.startsWith(`PJSIP/${endpoint}-`) && c.state === 'Up');
            return me.state === 'Up' && leg ? id : undefined;
          }, 120_000);
          return r === 'gone' ? undefined : r;
        }, 120_000);
        const rec = await waitFor(async () => {
          for (const id of await redis.zrange(keys.callsOf('node-answer'), '0', '-1')) {
            const h = await redis.hgetall(keys.call(id));
            if (h.ch === caller && h.ph === 'bridged' && h.ans) return h;
          }
          return undefined;
        });
        return { caller, rec };
      },
      /** Waits until the call's recording runs in Asterisk. */
      recording: (callId: string, timeoutMs?: number) =>
        waitFor(
          async () => (await fetch(`${sim.ariUrl}/ari/recordings/live/${callId}`, { headers: auth })).ok,
          timeoutMs,
        ),
      async stop() {
        redis.disconnect();
        await close();
        await sim.stop();
      },
    };
  }

  it('keeps the recorded answer time: answered_at, talk cap, end reason, the limit set again, the recording', async () => {
    const w = await world();
    const { sim, auth } = w;
    const timeoutOf = async (id: string) => {
      const r = await fetch(
        `${sim.ariUrl}/ari/channels/${encodeURIComponent(id)}/variable?variable=TIMEOUT(absolute)`,
        { headers: auth },
      );
      return r.ok ? Number(((await r.json()) as { value: string }).value) : 0;
    };
    let p = w.start();
    try {
      // The owner recorded the answer, and the recording runs.
      const { caller, rec } = await w.bridged(did, '+13105550500');
      const callId = rec.id!;
      const answeredAt = Number(rec.ans);
      const leg = sim.liveChannels().find((c) => c.name.startsWith(`PJSIP/${endpoint}-`))!.id;
      await w.recording(callId);
      // The recording started at the latest now: the bridge is recorded from here until the cut at
      // least (how long after the answer it started depends on the machine's load).
      const recordingSeen = Date.now();
      await p.kill();
      // The limit the owner set is gone, as when it kept the limit itself (Asterisk could not be told).
      for (const id of [caller, leg]) {
        const r = await fetch(
          `${sim.ariUrl}/ari/channels/${encodeURIComponent(id)}/variable?variable=TIMEOUT(absolute)&value=0`,
          { method: 'POST', headers: auth },
        );
        expect(r.status).toBe(204);
        expect(await timeoutOf(id)).toBe(0);
      }
      const down = Date.now();
      p = w.start();
      // The restarted daemon takes the call over and sets the limit again, for what is left of it
      // from the recorded answer (at most the whole limit less the time the call was left alone).
      const left = await waitFor(async () => {
        const t = await Promise.all([caller, leg].map(timeoutOf));
        return t.every((x) => x > 0) ? t : undefined;
      }, 120_000);
      for (const x of left)
        expect(x).toBeLessThanOrEqual(Math.max(1, limitS - Math.floor((down - answeredAt) / 1000)));
      // Asterisk cuts the call at the limit; the taken-over call gets its CDR.
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), (limitS + 120) * 1000);
      const [row] = await waitFor(async () => {
        const r = await w.sql<
          {
            answered_at: string;
            end_reason: string;
            talk_s: number;
            billable_s: number;
            recording_name: string | null;
            recording_s: number | null;
          }[]
        >`select answered_at, end_reason, talk_s, billable_s, recording_name, recording_s
          from call_records where call_id = ${callId}`;
        return r.length ? r : undefined;
      }, 60_000);
      expect(Date.parse(String(row!.answered_at))).toBe(answeredAt);
      expect(row).toMatchObject({
        end_reason: 'max_length',
        talk_s: limitS,
        billable_s: limitS,
        recording_name: callId,
      });
      // The bridge was recorded from (about) the answer until Asterisk cut the call, through the
      // takeover: at least from when the test saw it running until the limit's end.
      const cutAt = answeredAt + limitS * 1000;
      expect(row!.recording_s).toBeGreaterThanOrEqual(Math.floor((cutAt - recordingSeen) / 1000) - 1);
    } finally {
      await p.kill();
      await w.stop();
    }
  }, 300_000);

  it('a recording stopped while no daemon ran starts again on takeover, appended: the CDR counts both parts', async () => {
    const w = await world();
    const { sim, auth } = w;
    const parts: Array<{ name: string; duration: number }> = [];
    const onEvent = (_app: string, ev: { type: string; recording?: { name: string; duration?: number } }) => {
      if (ev.type === 'RecordingFinished' && ev.recording)
        parts.push({ name: ev.recording.name, duration: ev.recording.duration ?? -1 });
    };
    sim.events.on('ari-event', onEvent);
    let p = w.start();
    try {
      const { caller, rec } = await w.bridged(openDid, '+13105550501');
      const callId = rec.id!;
      await w.recording(callId);
      const recording = Date.now();
      await p.kill();
      // A first part of at least two seconds (a length, not a race: Asterisk tells a recording's
      // length only once it ends), then the recording stops with nobody to hear its end.
      await waitFor(() => (Date.now() - recording >= 2500 ? true : undefined));
      const stop = await fetch(`${sim.ariUrl}/ari/recordings/live/${callId}/stop`, {
        method: 'POST',
        headers: auth,
      });
      expect(stop.status).toBe(204);
      const first = await waitFor(() => parts.find((x) => x.name === callId)?.duration);
      expect(first).toBeGreaterThanOrEqual(2);
      p = w.start();
      // Taken over: recording again, appended; a second part of a second or more, then the caller
      // hangs up.
      await w.recording(callId, 120_000);
      const again = Date.now();
      await waitFor(() => (Date.now() - again >= 1500 ? true : undefined));
      sim.hangup(caller);
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), 60_000);
      const [row] = await waitFor(async () => {
        const r = await w.sql<{ recording_name: string | null; recording_s: number | null }[]>`
          select recording_name, recording_s from call_records where call_id = ${callId}`;
        return r.length ? r : undefined;
      }, 60_000);
      const mine = parts.filter((x) => x.name === callId).map((x) => x.duration);
      expect(mine).toHaveLength(2);
      // Both parts, as long as the stored file (8 kHz 16-bit mono), not the second part alone.
      expect(row).toMatchObject({ recording_name: callId, recording_s: mine[0]! + mine[1]! });
      const file = Buffer.from(
        await (
          await fetch(`${sim.ariUrl}/ari/recordings/stored/${callId}/file`, { headers: auth })
        ).arrayBuffer(),
      );
      expect(file.readUInt32LE(40)).toBe(row!.recording_s! * 16_000);
    } finally {
      sim.events.off('ari-event', onEvent);
      await p.kill();
      await w.stop();
    }
  }, 300_000);
});
