// An ended session ends its open live-floor streams at once, on every instance: the session store
// announces the ids it deletes on a Redis channel the live hubs listen to (rather than each stream
// finding out at its next session check, up to 15 s later). Real Redis; two hubs stand for two
// instances.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FloorReader, LiveHub } from '../../src/console/live.ts';
import { SessionStore } from '../../src/console/sessions.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis, waitReady } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { redisPrefix } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
/** Frames are not what this test is about: every read answers nothing. */
const floor: FloorReader = {
  links: async () => [],
  owners: async () => ({ sellers: [], dids: [], groups: [] }),
  names: async () => ({ clients: new Map(), sellers: new Map() }),
};

describe('live floor streams and ended sessions', () => {
  const redis = createRedis(process.env.REDIS_URL!);
  const keys = new RedisKeys(redisPrefix());
  const channel = keys.plain('console', 'live');
  const ended = keys.plain('console', 'sess-ended');
  const hubs = [
    new LiveHub(redis, channel, floor, log, ended),
    new LiveHub(redis, channel, floor, log, ended),
  ];
  beforeAll(() => waitReady(redis, 30_000, 'Redis'));
  afterAll(() => {
    for (const h of hubs) h.endAll();
    redis.disconnect();
  });

  it('signing out (one session, or all of a user’s) ends those streams on every instance, and only those', async () => {
    const store = new SessionStore(redis, keys, 60_000, 3600_000, ended);
    const a = await store.create('user-a', { ip: '127.0.0.1', userAgent: 'test' });
    const a2 = await store.create('user-a', { ip: '127.0.0.1', userAgent: 'test' });
    const b = await store.create('user-b', { ip: '127.0.0.1', userAgent: 'test' });
    const endedStreams: string[] = [];
    const stream = (hub: LiveHub, session: string, name: string) =>
      hub.add({ scope: null, session, send: () => {}, end: () => void endedStreams.push(name) });
    await stream(hubs[0]!, a.session.id, 'a@1');
    await stream(hubs[1]!, a.session.id, 'a@2');
    await stream(hubs[1]!, a2.session.id, 'a2@2');
    await stream(hubs[0]!, b.session.id, 'b@1');
    // Both hubs listen before anything is announced.
    await waitFor(async () => {
      const r = (await redis.pubsub('NUMSUB', ended)) as [string, number];
      return Number(r[1]) === 2;
    });
    await store.destroy(a.session.id, 'user-a');
    await waitFor(() => endedStreams.length === 2);
    expect(endedStreams.sort()).toEqual(['a@1', 'a@2']);
    // Everywhere but the session kept: a's other stream ends, b's stays.
    await store.destroyAll('user-a');
    await waitFor(() => endedStreams.length === 3);
    expect(endedStreams.at(-1)).toBe('a2@2');
    // Both announcements handled by both hubs: another user's stream is still open.
    expect(endedStreams).not.toContain('b@1');
  });
});
