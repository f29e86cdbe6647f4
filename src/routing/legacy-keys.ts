// Routing keys of the layout before the {routing} hash tag, brought over once at start. Earlier
// versions gave each link (and campaign) a hash tag of its own: `<prefix>:link:{<link id>}:<part>...`,
// `<prefix>:campaign:{<campaign id>}:<part>...` and the set `<prefix>:routing:links`. Without this, an
// upgrade would start the hour/day/month counters from zero (caps overshot for the rest of the
// period) and forget live slots. Each old key is merged into its name under the tag with its TTL,
// then deleted. Until the pass has reached a link, its caps see only the calls since the start.
// Instances of the old version must not run beside the new one against one Redis (they would keep
// writing the old names).
import type { Redis } from 'ioredis';
import type { RoutingKeys } from '../platform/redis/keys.ts';

/** Glob-escaped, for SCAN MATCH. */
const glob = (s: string) => s.replace(/[*?[\]\\]/g, (c) => `\\${c}`);

/** The name under the {routing} tag of a key of the earlier layout, or null when it is not one (pure). */
export function legacyRoutingName(prefix: string, key: string, k: RoutingKeys): string | null {
  if (key === `${prefix}:routing:links`) return k.links;
  for (const [kind, to] of [
    ['link', (id: string, parts: string[]) => k.link(id, ...parts)],
    ['campaign', (id: string, parts: string[]) => k.campaign(id, ...parts)],
  ] as const) {
    const head = `${prefix}:${kind}:{`;
    if (!key.startsWith(head)) continue;
    const close = key.indexOf('}:', head.length);
    if (close < 0) return null;
    const id = key.slice(head.length, close);
    const rest = key.slice(close + 2);
    return rest ? to(id, rest.split(':')) : null;
  }
  return null;
}

/** A counter of answered calls in an hour, day or month bucket (`link:<id>:h|d|m:<bucket>`). */
const BUCKET_COUNTER = /:link:[^:]+:[hdm]:[^:]+$/;

/**
 * Brings one key of the earlier layout over and deletes it. It runs beside live traffic, so the new
 * name may exist already: bucket counters add up (the new one counted only calls since the start),
 * live slots and the set of links merge, and anything else keeps the new value (a total is seeded
 * from PostgreSQL, which counts every answered call already).
 */
async function adoptKey(redis: Redis, from: string, to: string): Promise<boolean> {
  const [type, ttl] = await Promise.all([redis.type(from), redis.pttl(from)]);
  const expire = async () => {
    if (ttl > 0 && (await redis.pttl(to)) === -1) await redis.pexpire(to, ttl);
  };
  if (type === 'none') return false;
  if (type === 'string') {
    const v = await redis.get(from);
    if (v !== null && BUCKET_COUNTER.test(to) && /^\d+$/.test(v)) await redis.incrby(to, Number(v));
    else if (v !== null) await redis.set(to, v, 'NX');
    await expire();
  } else if (type === 'zset') {
    const flat = await redis.zrange(from, '0', '-1', 'WITHSCORES');
    const pairs: string[] = [];
    for (let i = 0; i < flat.length; i += 2) pairs.push(flat[i + 1]!, flat[i]!);
    if (pairs.length) await redis.zadd(to, 'NX', ...pairs);
    await expire();
  } else if (type === 'set') {
    const members = await redis.smembers(from);
    if (members.length) await redis.sadd(to, ...members);
    await expire();
  } else if (type === 'hash') {
    if ((await redis.exists(to)) === 0) {
      await redis.hset(to, await redis.hgetall(from));
      await expire();
    }
  }
  await redis.del(from);
  return true;
}

/**
 * Brings every key of the earlier layout over; answers how many it took. Runs in the background from
 * the slot store's start, beside live calls (a first version made calls wait for it, and on a large
 * keyspace they waited seconds): one SCAN of the keyspace, 1,000 keys a call, so each call holds
 * Redis for a moment only (5,000 a call held it 10-18 ms on a busy host).
 */
export async function adoptLegacyRoutingKeys(redis: Redis, prefix: string, k: RoutingKeys): Promise<number> {
  let moved = 0;
  const move = async (from: string) => {
    const to = legacyRoutingName(prefix, from, k);
    if (to && (await adoptKey(redis, from, to))) moved++;
  };
  await move(`${prefix}:routing:links`);
  for (const kind of ['link', 'campaign']) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(
        cursor,
        'MATCH',
        `${glob(`${prefix}:${kind}:{`)}*`,
        'COUNT',
        1000,
      );
      cursor = next;
      for (const key of found) await move(key);
    } while (cursor !== '0');
  }
  return moved;
}

/**
 * Hold-queue lines of the earlier layout: one per campaign (`campaign:<id>:queue`, call ids scored
 * by the time they joined), which this version does not read. At start, before any call is taken
 * over, each entry joins the line of every link of its campaign at the time it joined (the links
 * that refused it are not known; a call taken over without them leaves the lines of every link of
 * its plan), keeping the longest expiry, and the old line is deleted: callers who waited under the
 * earlier version keep their place ahead of those arriving after the upgrade. Answers how many
 * entries it moved.
 */
export async function adoptCampaignQueues(
  redis: Redis,
  k: RoutingKeys,
  linksOf: (campaignId: string) => Promise<readonly string[]>,
): Promise<number> {
  const head = `${k.base}:campaign:`;
  let moved = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${glob(head)}*:queue`, 'COUNT', 1000);
    cursor = next;
    for (const key of found) {
      const campaignId = key.slice(head.length, -':queue'.length);
      const [flat, ttl] = await Promise.all([redis.zrange(key, '0', '-1', 'WITHSCORES'), redis.pttl(key)]);
      const pairs: string[] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push(flat[i + 1]!, flat[i]!);
      for (const linkId of pairs.length ? await linksOf(campaignId) : []) {
        const line = k.link(linkId, 'waiting');
        await redis.zadd(line, 'NX', ...pairs);
        if (ttl > 0 && (await redis.pttl(line)) < ttl) await redis.pexpire(line, ttl);
      }
      moved += pairs.length / 2;
      await redis.del(key);
    }
  } while (cursor !== '0');
  return moved;
}
