// Routing keys of the layout before the {routing} hash tag, brought over once at start. Earlier
// versions gave each link (and campaign) a hash tag of its own: `<prefix>:link:{<link id>}:<part>...`,
// `<prefix>:campaign:{<campaign id>}:<part>...` and the set `<prefix>:routing:links`. Without this, an
// upgrade would start the hour/day/month counters from zero (caps overshot for the rest of the
// period) and forget live slots. Each old key is copied with its TTL (DUMP/RESTORE, so any type) to
// its name under the tag unless that name exists already, then deleted. Instances of the old version
// must not run beside the new one against one Redis (they would keep writing the old names).
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

/**
 * Moves every key of the earlier layout; answers how many it moved. One SCAN of the keyspace, once
 * per start, 1,000 keys a call: each call holds Redis for a moment only (5,000 a call held it for
 * 10-18 ms on a busy host, a stall every pick and slot script of that moment would wait out).
 */
export async function adoptLegacyRoutingKeys(redis: Redis, prefix: string, k: RoutingKeys): Promise<number> {
  let moved = 0;
  const move = async (from: string) => {
    const to = legacyRoutingName(prefix, from, k);
    if (!to) return;
    const [dump, ttl] = await Promise.all([redis.dumpBuffer(from), redis.pttl(from)]);
    if (dump && ttl !== -2 && (await redis.exists(to)) === 0) {
      // NX semantics by hand: RESTORE without REPLACE fails if another instance got there first.
      await redis.restore(to, ttl > 0 ? ttl : 0, dump).catch((e: Error) => {
        if (!/BUSYKEY/.test(e.message)) throw e;
      });
      moved++;
    }
    await redis.del(from);
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
