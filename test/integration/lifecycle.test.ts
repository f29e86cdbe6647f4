import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.ts';
import { type DaemonModule, startDaemon } from '../../src/main.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';

const silent = createLogger({ level: 'silent' });

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 60_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('readiness follows Redis', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let redis: PrivateRedis;
  beforeAll(async () => {
    db = await freshDatabase();
    redis = await PrivateRedis.create();
  });
  afterAll(async () => {
    await redis?.stop();
    await db?.drop();
  });

  it('reaches Redis over a Unix socket (REDIS_URL=unix:///path)', async () => {
    const d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, REDIS_URL: redis.socketUrl }),
      silent,
      [],
      { listen: false },
    );
    try {
      expect((await d.app.inject('/ready')).statusCode).toBe(200);
      await d.ctx.redis.set('capconduit-unix-check', '1');
      // The same server over TCP sees what was written over the socket.
      const tcp = createRedis(redis.url, { enableOfflineQueue: true });
      expect(await tcp.get('capconduit-unix-check')).toBe('1');
      tcp.disconnect();
    } finally {
      await d.stop();
    }
  });

  it('turns 503 naming redis when Redis stops, and 200 when it returns', async () => {
    const d = await startDaemon(testConfig({ DATABASE_URL: db.url, REDIS_URL: redis.url }), silent, [], {
      listen: false,
    });
    try {
      expect((await d.app.inject('/ready')).statusCode).toBe(200);
      await redis.stop();
      const down = await until(
        () => d.app.inject('/ready'),
        (r) => r.statusCode === 503,
      );
      expect(down.statusCode).toBe(503);
      expect(down.json()).toMatchObject({
        status: 'not_ready',
        checks: { redis: { ok: false }, postgres: { ok: true } },
      });
      expect((await d.app.inject('/health')).statusCode).toBe(200);
      await redis.start();
      const up = await until(
        () => d.app.inject('/ready'),
        (r) => r.statusCode === 200,
      );
      expect(up.statusCode).toBe(200);
    } finally {
      await d.stop();
    }
  });
});

describe('graceful stop', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('finishes a request in flight, then refuses new connections and closes its pools', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => {
      entered = r;
    });
    let moduleStopped = false;
    const slow = (): DaemonModule => ({
      name: 'slow',
      routes: [
        async (app) => {
          app.get('/slow', async () => {
            entered();
            await gate;
            return { done: true };
          });
        },
      ],
      stop: async () => {
        moduleStopped = true;
      },
    });
    const d = await startDaemon(testConfig({ DATABASE_URL: db.url }), silent, [slow]);
    const inflight = fetch(`${d.address}/slow`);
    await inHandler;
    const stopping = d.stop();
    // The listener closes at once: a new connection is refused while the old request still runs.
    await until(
      () =>
        fetch(`${d.address}/health`).then(
          () => 'open',
          () => 'closed',
        ),
      (s) => s === 'closed',
    );
    release();
    const res = await inflight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ done: true });
    await stopping;
    expect(moduleStopped).toBe(true);
    expect(d.ctx.redis.status).toBe('end');
  });
});
