// Answered totals never wait in a process' memory: a use is in Redis from the moment its slot is
// marked answered, and reaches PostgreSQL exactly once, in batches with ids PostgreSQL remembers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { applyTotalsBatch, recoverLostAnswers } from '../../src/routing/repository.ts';
import { type LinkCaps, type SlotRef, SlotStore } from '../../src/routing/slots.ts';
import { AnsweredTotals, splitTotals } from '../../src/routing/totals.ts';
import { freshDatabase, redisPrefix } from '../helpers/env.ts';
import { seedCampaign } from '../helpers/seed.ts';

const none: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };
const buckets = { hour: '2026112305', day: '20261123', month: '202611' };
const log = createLogger({ level: 'silent' });

describe('answered totals', () => {
  let pg: Awaited<ReturnType<typeof freshDatabase>>;
  let database: Database;
  const keys = new RedisKeys(redisPrefix());
  const redis = createRedis(process.env.REDIS_URL!, { enableOfflineQueue: true });
  const slots = new SlotStore(redis, keys, 60_000);
  let linkId = '';
  let sellerId = '';
  beforeAll(async () => {
    pg = await freshDatabase();
    database = createDatabase(pg.url, { max: 4 });
    const { db } = database;
    const seeded = await seedCampaign(db, { clients: ['cl'] });
    linkId = seeded.links[0]!.linkId;
    sellerId = seeded.sellerId;
  });
  afterAll(async () => {
    const left = await redis.keys(`${keys.prefix}:*`);
    if (left.length) await redis.del(...left);
    redis.disconnect();
    await database?.close();
    await pg?.drop();
  });

  const pgTotals = async () => {
    const [l] = await database.sql<{ n: number }[]>`
      select total_answered::int as n from campaign_links where id = ${linkId}`;
    const [o] = await database.sql<{ n: number }[]>`
      select total_answered::int as n from routing_cap_totals where owner_kind = 'seller' and owner_id = ${sellerId}`;
    return { link: l!.n, seller: o?.n ?? 0 };
  };
  /** Takes, answers and releases `n` slots counted against the link and the seller; answers their ids. */
  const answerCalls = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const ref: SlotRef = {
        linkId,
        slotId: randomUUID(),
        buckets,
        sources: [{ kind: 'seller', id: sellerId, buckets }],
      };
      expect(await slots.take(ref, none, Date.now(), undefined, [{ caps: { ...none, total: 1000 } }])).toBe(
        'taken',
      );
      expect(await slots.answer(ref)).toBe(true);
      expect(await slots.answer(ref)).toBe(false); // counted once, however often it is said
      await slots.release(ref);
      ids.push(ref.slotId);
    }
    return ids;
  };
  /** An ended call's CDR whose one attempt, on the link, was answered on slot `slot`. */
  const cdr = (callId: string, slot: string, endedAt: Date) => {
    const t = endedAt.toISOString();
    const attempts = [
      {
        link_id: linkId,
        client_id: linkId,
        leg_id: slot,
        result: 'answered',
        started_at: t,
        answered_at: t,
        ended_at: t,
        ring_ms: 0,
      },
    ];
    return database.sql`
      insert into call_records (call_id, node_id, seller_id, started_at, answered_at, ended_at, duration_s, billable_s,
                                disposition, attempts, link_id)
      values (${callId}, 'n1', ${sellerId}, ${t}, ${t}, ${t}, 1, 1, 'answered', ${JSON.stringify(attempts)}::jsonb, ${linkId})`;
  };

  it('splits a batch into links and other owners, skipping what is not a count (pure)', () => {
    const {
      links: l,
      owners,
      slots: sl,
      cutOff,
    } = splitTotals({
      'link:a': '2',
      'seller:b': '1',
      'did:c': '0',
      'group:d': 'x',
      'slot:s1': 'link:a;seller:b',
      'slot:s2': 'link:a',
      at: '1796500000123',
    });
    expect([...l]).toEqual([['a', 2]]);
    expect([...owners]).toEqual([['seller:b', 1]]);
    expect([...sl]).toEqual([
      ['s1', ['link:a', 'seller:b']],
      ['s2', ['link:a']],
    ]);
    expect(cutOff).toBe(1796500000123);
  });

  it('answered uses wait in Redis, not in memory, and reach PostgreSQL once', async () => {
    const before = await pgTotals();
    const ids = await answerCalls(3);
    // A process that counted them and died without flushing lost nothing: they are in Redis.
    const pending = await redis.hgetall(keys.routing.totalsPending);
    expect(pending).toMatchObject({ [`link:${linkId}`]: '3', [`seller:${sellerId}`]: '3' });
    // With the slots whose answers they are, each with what it was counted in.
    for (const id of ids) expect(pending[`slot:${id}`]).toBe(`link:${linkId};seller:${sellerId}`);
    const t = new AnsweredTotals(database.db, redis, keys.routing, log);
    await t.flush();
    await t.flush();
    expect(await pgTotals()).toEqual({ link: before.link + 3, seller: before.seller + 3 });
    expect(await redis.exists(keys.routing.totalsPending, keys.routing.totalsBatches)).toBe(0);
  });

  it('a batch applied whose deletion from Redis was lost (a crash) is not counted twice', async () => {
    const before = await pgTotals();
    await answerCalls(2);
    // What a flush does up to the PostgreSQL commit, then the process dies.
    const id = randomUUID();
    await redis.takeTotals(
      keys.routing.totalsPending,
      keys.routing.totalsBatch(id),
      keys.routing.totalsBatches,
      id,
    );
    const { links: l, owners } = splitTotals(await redis.hgetall(keys.routing.totalsBatch(id)));
    expect(await applyTotalsBatch(database.db, id, l, owners)).toBe(true);
    // Uses keep coming meanwhile; then another instance's flush meets the batch again.
    await answerCalls(1);
    await new AnsweredTotals(database.db, redis, keys.routing, log).flush();
    expect(await pgTotals()).toEqual({ link: before.link + 3, seller: before.seller + 3 });
    expect(await redis.exists(keys.routing.totalsBatch(id), keys.routing.totalsBatches)).toBe(0);
  });

  it('with PostgreSQL unreachable the batches wait in Redis, and are applied once it answers', async () => {
    const before = await pgTotals();
    // A database nobody listens on: every statement fails.
    const dead = createDatabase('postgres://postgres@127.0.0.1:1/none', { max: 1 });
    try {
      const down = new AnsweredTotals(dead.db, redis, keys.routing, log);
      await answerCalls(2);
      await down.flush(); // never rejects
      await answerCalls(1);
      await down.flush();
      expect(await redis.scard(keys.routing.totalsBatches)).toBe(2);
      expect(await pgTotals()).toEqual(before);
    } finally {
      await dead.close();
    }
    // Two instances flushing at once: each batch is counted by one of them.
    const a = new AnsweredTotals(database.db, redis, keys.routing, log);
    const b = new AnsweredTotals(database.db, redis, keys.routing, log);
    await Promise.all([a.flush(), b.flush()]);
    expect(await pgTotals()).toEqual({ link: before.link + 3, seller: before.seller + 3 });
    expect(await redis.scard(keys.routing.totalsBatches)).toBe(0);
  });

  it('after Redis lost the waiting answers: the answers of ended calls that PostgreSQL has not counted are counted from the CDRs, once', async () => {
    await database.sql`update sellers set total_cap = 1000 where id = ${sellerId}`;
    // No timer of its own (the longest setInterval takes): the test says when a flush runs, so none
    // moves the three answers below to PostgreSQL before Redis loses them (a loaded machine once did).
    const t = new AnsweredTotals(database.db, redis, keys.routing, log, 2 ** 31 - 1);
    t.start(); // its mark: answers from here carry their slots
    await t.flush();
    const applied = await answerCalls(2);
    await t.flush(); // these two reach PostgreSQL, with their slots
    const before = await pgTotals();
    const lost = await answerCalls(3);
    // Redis loses what waits in it; the five calls had ended, their CDRs are written.
    await redis.del(keys.routing.totalsPending);
    const ended = new Date();
    for (const [i, slot] of [...applied, ...lost].entries()) await cdr(`rl-${i}-${slot}`, slot, ended);
    const after = new Date(Date.now() + 1000);
    // Two instances recovering at once, then again (a second loss): the three lost count once.
    const got = await Promise.all([
      recoverLostAnswers(database.db, { endedBefore: after }),
      recoverLostAnswers(database.db, { endedBefore: after }),
    ]);
    expect(got.sort()).toEqual([0, 3]);
    expect(await recoverLostAnswers(database.db, { endedBefore: after })).toBe(0);
    expect(await pgTotals()).toEqual({ link: before.link + 3, seller: before.seller + 3 });
    await t.stop();
  });

  it('a batch on its way while a recovery counted some of its slots counts only the others', async () => {
    const before = await pgTotals();
    const ids = await answerCalls(3);
    const id = randomUUID();
    await redis.takeTotals(
      keys.routing.totalsPending,
      keys.routing.totalsBatch(id),
      keys.routing.totalsBatches,
      id,
    );
    const batch = splitTotals(await redis.hgetall(keys.routing.totalsBatch(id)));
    expect([...batch.slots.keys()].sort()).toEqual([...ids].sort());
    expect(batch.cutOff).toBeGreaterThan(0);
    // A recovery (on another instance) counted the first slot's answer meanwhile.
    await database.sql`insert into routing_counted_answers (slot_id) values (${ids[0]!})`;
    await database.sql`update campaign_links set total_answered = total_answered + 1 where id = ${linkId}`;
    await database.sql`update routing_cap_totals set total_answered = total_answered + 1
                        where owner_kind = 'seller' and owner_id = ${sellerId}`;
    expect(await applyTotalsBatch(database.db, id, batch.links, batch.owners, batch)).toBe(true);
    expect(await pgTotals()).toEqual({ link: before.link + 3, seller: before.seller + 3 });
    await redis.del(keys.routing.totalsBatch(id));
    await redis.srem(keys.routing.totalsBatches, id);
  });
});
