// Number health counted from AMI Cdr events (CID_HEALTH_EVENT=cdr, for an Asterisk with
// cdr_manager enabled) against the simulator sending them: an outbound call through
// Stasis(capconduit,outbound,<campaign>) gets a rotated caller ID, is dialled and answered, and its
// CDR (Source: that number, Disposition: ANSWERED) counts it as answered, once.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createCallerIdModule } from '../../src/callerid/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: process.env.TEST_LOG ? 'error' : 'silent' });

describe('caller-ID number health from AMI Cdr events', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let redisSrv: PrivateRedis;
  let redis: Redis;
  let sim: Simulator;
  let d: Daemon;
  let admin: string;

  beforeAll(async () => {
    db = await freshDatabase();
    redisSrv = await PrivateRedis.create();
    redis = new Redis(redisSrv.url);
    sim = await startSimulator({ ariPort: 0, amiPort: 0, cdrManager: { enabled: true } });
    const config = testConfig({
      DATABASE_URL: db.url,
      REDIS_URL: redisSrv.url,
      ...simEnv(sim),
      CID_HEALTH_EVENT: 'cdr',
      CID_RESERVATION_TTL_S: '60',
      CID_FLUSH_INTERVAL_MS: '100000',
    });
    d = await startDaemon(config, log, [createAsteriskModule, createCallerIdModule], { listen: false });
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    redis?.disconnect();
    await redisSrv?.stop();
    await db?.drop();
  });

  const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
    d.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${admin}` },
      ...(payload ? { payload } : {}),
    });

  it('counts an answered outbound call from its Cdr, and only once', async () => {
    expect((await api('POST', '/v1/cid-pools', { id: 'SALES01' })).statusCode).toBe(201);
    expect(
      (await api('POST', '/v1/caller-ids', { number: '+14155550100', campaigns: ['SALES01'] })).statusCode,
    ).toBe(201);
    sim.setEndpoint('outbound-trunk', { result: 'answer', answerAfterMs: 10, hangupAfterMs: 20 });
    const cdrs: Array<{ src: string; disposition: string }> = [];
    sim.events.on('cdr', (c: { src: string; disposition: string }) => cdrs.push(c));
    sim.placeInboundCall({ did: '4155551234', callerNumber: '100', context: 'outbound-rotated' });
    await waitFor(() => sim.liveChannels().length === 0);
    const stat = async () =>
      (await api('GET', '/v1/caller-ids/stats?campaign=SALES01'))
        .json()
        .numbers.items.find((x: { number: string }) => x.number === '+14155550100');
    await waitFor(async () => (await stat()).answered === 1);
    // The record that counted it: the rotated number as Source, answered.
    expect(cdrs).toContainEqual(expect.objectContaining({ src: '+14155550100', disposition: 'ANSWERED' }));
    // Every CDR of the call has been posted (and sent) by now: still one.
    await waitFor(() => cdrs.length >= 2);
    expect(await stat()).toMatchObject({ answered: 1, unanswered: 0 });
  });
});
