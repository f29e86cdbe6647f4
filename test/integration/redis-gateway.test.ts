// The one Redis connection factory under outages: a command fails within a bound whatever the
// outage looks like (a Redis that stopped answering but keeps its sockets open, a Redis gone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis, REDIS_COMMAND_TIMEOUT_MS } from '../../src/platform/redis/client.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

describe('Redis connection under outages', () => {
  let srv: PrivateRedis;
  let r: Redis;
  let check: Redis;
  beforeAll(async () => {
    srv = await PrivateRedis.create();
    r = createRedis(srv.url);
    check = createRedis(srv.url, { enableOfflineQueue: true });
    await waitFor(() => r.status === 'ready');
  });
  afterAll(async () => {
    srv?.resume();
    r?.disconnect();
    check?.disconnect();
    await srv?.stop();
  });

  it('fail-fast connections carry the command bound; queueing ones (BullMQ, subscribers) do not', () => {
    expect(r.options.commandTimeout).toBe(REDIS_COMMAND_TIMEOUT_MS);
    expect(r.options.autoResendUnfulfilledCommands).toBe(false);
    expect(check.options.commandTimeout).toBeUndefined();
    expect(check.options.autoResendUnfulfilledCommands).toBe(true);
  });

  it('a Redis that stops answering with its connections open: in-flight and new commands fail, not wait', async () => {
    await r.set('gw:n', '0');
    srv.pause();
    try {
      // Without a command timeout both would wait for as long as Redis is frozen (here: for ever).
      const both = [r.incr('gw:n'), r.get('gw:n')];
      for (const p of both) await expect(p).rejects.toThrow(/timed out/);
    } finally {
      srv.resume();
    }
    // A failure means "may have run": Redis runs what reached it before it froze (once: a failed
    // command is not sent again), which is why every caller's writes are once-only or reconciled.
    await waitFor(async () => (await r.get('gw:n').catch(() => null)) !== null);
    expect(await check.get('gw:n')).toBe('1');
  });

  it('a Redis gone (its process killed): commands fail at once, and the connection comes back', async () => {
    await srv.stop();
    await expect(r.get('gw:n')).rejects.toThrow();
    await srv.start();
    await waitFor(async () => (await r.ping().catch(() => null)) === 'PONG');
  });
});
