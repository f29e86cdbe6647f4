// Live calls' state in Redis (real Redis): a call belongs to the instance that started it while that
// instance beats; once it is silent, exactly one of any number of instances claiming at the same
// moment takes the call over, and the old owner may no longer write its CDR.
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { type CallState, newCall } from '../../src/routing/call.ts';
import { CallStore } from '../../src/routing/call-store.ts';
import { redisPrefix } from '../helpers/env.ts';

const log = createLogger({ level: 'silent' });

describe('call store', () => {
  const keys = new RedisKeys(redisPrefix()).routing;
  const conns: ReturnType<typeof createRedis>[] = [];
  const store = (id: string, deadAfterMs = 60_000) => {
    const r = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
    conns.push(r);
    return new CallStore(r, keys, id, { ttlMs: 3_600_000, beatMs: 60_000, deadAfterMs }, log);
  };
  afterAll(() => {
    for (const c of conns) c.disconnect();
  });
  const call = (callId: string): CallState =>
    newCall({
      callId,
      callerChannelId: `${callId}-caller`,
      nodeId: 'n1',
      app: 'capconduit',
      did: '+15550001111',
      callerNumber: '+15550002222',
      startedAt: Date.now(),
    }).state;

  it('an owner that beats keeps its call; a silent one loses it to exactly one of many claimers', async () => {
    const owner = store('owner');
    owner.start();
    await owner.save(call('c1'), Date.now());
    const others = Array.from({ length: 12 }, (_, i) => store(`other-${i}`));
    // Alive: nobody takes it.
    const alive = await Promise.all(others.map((o) => o.claim('c1')));
    expect(alive.every((r) => r.kind === 'alive')).toBe(true);
    // Silent (killed: no goodbye) past the bound: twelve claim at once, one wins.
    await owner.stop().catch(() => {});
    const redis = conns[0]!;
    await redis.zadd(keys.instances, Date.now() - 120_000, owner.token);
    const claims = await Promise.all(others.map((o) => o.claim('c1')));
    expect(claims.filter((r) => r.kind === 'taken')).toHaveLength(1);
    expect(claims.filter((r) => r.kind === 'alive')).toHaveLength(11);
    const winner = others[claims.findIndex((r) => r.kind === 'taken')]!;
    // The old owner may not write the CDR any more; the winner may, once.
    expect(await owner.ending('c1')).toBe(false);
    expect(await winner.ending('c1')).toBe(true);
    await winner.forget('c1', 'n1');
    expect(await winner.claim('c1')).toEqual({ kind: 'unknown' });
    expect(await redis.zcard(keys.callsOf('n1'))).toBe(0);
  });

  it('a graceful stop hands its calls over at once; its records read back', async () => {
    const a = store('a');
    const b = store('b');
    a.start();
    const savedAt = Date.now();
    await a.save(call('c2'), savedAt);
    expect((await b.claim('c2')).kind).toBe('alive');
    const [rec] = await b.ofNode('n1', (id) => id !== 'c2');
    expect(rec).toMatchObject({ callId: 'c2', owner: a.token, phase: 'routing', updatedAt: savedAt });
    expect((await b.ofNode('n1', (id) => id === 'c2')).map((r) => r.callId)).not.toContain('c2');
    await a.stop();
    expect((await b.claim('c2')).kind).toBe('taken');
    // A later save by the old owner does not take the call back.
    await a.save(call('c2'), Date.now());
    expect((await b.ofNode('n1', (id) => id !== 'c2'))[0]!.owner).toBe(b.token);
    await b.forget('c2', 'n1');
  });
});
