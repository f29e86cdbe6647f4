// Maximum call length per campaign through the whole flow: the API field, a call that would talk on
// is cut by Asterisk at the limit (TIMEOUT(absolute) on both channels) and its CDR says so and bills
// up to it, and a daemon killed mid-call leaves the limit in Asterisk, which applies it alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix } from '../helpers/env.ts';
import { flowForTests } from '../helpers/flow.ts';
import { daemonEnv, removeDaemonDirs, spawnDaemon } from '../helpers/daemon-process.ts';
import { seedCampaign } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('maximum call length', () => {
  const f = flowForTests();

  it('max_call_s: 1 to 86400 or null; anything else is 400 and changes nothing', async () => {
    const c = await f.api(f.sellerKey, 'POST', '/v1/campaigns', { name: 'len', max_call_s: 600 });
    expect(c.statusCode).toBe(201);
    expect(c.json().max_call_s).toBe(600);
    const url = `/v1/campaigns/${c.json().id}`;
    for (const bad of [0, -1, 86_401, 1.5, '60']) {
      const r = await f.api(f.sellerKey, 'PATCH', url, { max_call_s: bad });
      expect(r.statusCode).toBe(400);
      expect(r.json().error.code).toBe('VALIDATION_FAILED');
    }
    expect((await f.api(f.sellerKey, 'GET', url)).json().max_call_s).toBe(600);
    const off = await f.api(f.sellerKey, 'PATCH', url, { max_call_s: null });
    expect(off.json().max_call_s).toBeNull();
    const fresh = await f.api(f.sellerKey, 'POST', '/v1/campaigns', { name: 'len-default' });
    expect(fresh.json().max_call_s).toBeNull();
  });

  it('a call that would talk longer is cut by Asterisk at the limit; the CDR says max_length', async () => {
    const c = await f.campaign({ max_call_s: 1 }, [{ behaviour: { answerAfterMs: 10 } }]); // never hangs up
    const destroyed = new Map<string, number>();
    const onGone = (id: string, cause: number) => destroyed.set(id, cause);
    f.sim.events.on('channel-destroyed', onGone);
    try {
      const caller = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550300' });
      const [r] = await f.cdrsOnce(c.did);
      const rec = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
        .items[0];
      expect(rec).toMatchObject({ disposition: 'answered', end_reason: 'max_length', talk_s: 1 });
      expect(rec.billable_s).toBe(1);
      // Asterisk's absolute timeout ended the call: no cause set (0). Both channels carry the same
      // limit, set a few milliseconds apart, so either may go first; the other is then hung up by
      // the daemon (16) unless its own timer beat the daemon's request. At least one went by the timer.
      const leg = String(r!.attempts[0]!.leg_id);
      await waitFor(() => (destroyed.has(leg) && destroyed.has(caller) ? true : undefined));
      const causes = [destroyed.get(caller), destroyed.get(leg)];
      expect(causes).toContain(0);
      for (const cause of causes) expect([0, 16]).toContain(cause);
    } finally {
      f.sim.events.off('channel-destroyed', onGone);
    }
  });

  it('a call ended before the limit says who hung up', async () => {
    const c = await f.campaign({ max_call_s: 3600 }, [
      { behaviour: { answerAfterMs: 10, hangupAfterMs: 50 } },
    ]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550301' });
    await f.cdrsOnce(c.did);
    const rec = (await f.api(f.staffKey, 'GET', `/v1/calls?did=${encodeURIComponent(c.did)}`)).json()
      .items[0];
    expect(rec).toMatchObject({ disposition: 'answered', end_reason: 'client_hangup' });
  });
});

describe('maximum call length with the daemon killed mid-call', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  const did = '+14155557100';
  const endpoint = 'long-talker';
  const limitS = 8;

  beforeAll(async () => {
    db = await freshDatabase();
    await seedCampaign(db.url, {
      campaign: { maxAttempts: 1, maxCallS: limitS },
      dids: [did],
      clients: [endpoint],
    });
  });
  afterAll(async () => {
    await db?.drop();
    removeDaemonDirs();
  });

  it('Asterisk hangs both parties up at the limit with no daemon left', async () => {
    const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    sim.setEndpoint(endpoint, { answerAfterMs: 20 }); // answers and never hangs up
    const env = daemonEnv({ databaseUrl: db.url, redisPrefix: redisPrefix(), sim, nodeId: 'node-len' });
    const p = spawnDaemon(env);
    const requests: string[] = [];
    const gone = new Map<string, number>();
    sim.events.on('ari-event', (_app: string, ev: { type: string; channel?: { id: string } }) => {
      if (ev.type === 'ChannelHangupRequest' && ev.channel) requests.push(ev.channel.id);
    });
    sim.events.on('channel-destroyed', (id: string, cause: number) => gone.set(id, cause));
    try {
      // Calls until one is answered by the client: the first may come before the daemon holds the app.
      const up = await waitFor(async () => {
        const caller = sim.placeInboundCall({ did, callerNumber: '+13105550400' });
        const r = await waitFor(() => {
          const live = sim.liveChannels();
          if (!live.some((c) => c.id === caller)) return 'gone' as const;
          return live.filter((c) => c.state === 'Up').length === 3 ? live : undefined;
        });
        return r === 'gone' ? undefined : r;
      }, 120_000);
      // Asterisk holds the limit on both parties before the daemon goes (the ARI answer says so).
      const ari = async (id: string) => {
        const r = await fetch(
          `${sim.ariUrl}/ari/channels/${encodeURIComponent(id)}/variable?variable=TIMEOUT(absolute)`,
          { headers: { authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` } },
        );
        return r.ok ? Number(((await r.json()) as { value: string }).value) : 0;
      };
      await waitFor(async () => {
        const left = await Promise.all(up.filter((c) => !c.name.endsWith(';1')).map((c) => ari(c.id)));
        return left.every((x) => x > 0 && x <= limitS) ? true : undefined;
      });
      await p.kill();
      // Nobody is left to hang up: Asterisk does, by the timeout (cause 0, no hangup request).
      await waitFor(() => (sim.liveChannels().length === 0 ? true : undefined), (limitS + 60) * 1000);
      for (const c of up) {
        expect(gone.get(c.id)).toBe(0);
        expect(requests).not.toContain(c.id);
      }
    } finally {
      await p.kill();
      await sim.stop();
    }
  }, 240_000);
});
