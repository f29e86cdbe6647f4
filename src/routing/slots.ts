// Routing slots in Redis: the only place caps are decided. Each operation is one Lua script; the
// KEYS/ARGV are built by pure functions (testable without Redis) and all keys of one link share a
// hash tag, so the scripts stay legal on Redis Cluster.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type { RedisKeys } from '../redis/keys.ts';
import { callScript, defineScripts, loadScript } from '../redis/scripts.ts';

const here = dirname(fileURLToPath(import.meta.url));
const SCRIPTS = ['takeSlot-6.lua', 'answerSlot-1.lua', 'releaseSlot-6.lua'].map((f) =>
  loadScript(join(here, 'lua', f)),
);

export interface LinkCaps {
  concurrency: number | null;
  hourly: number | null;
  daily: number | null;
  monthly: number | null;
  total: number | null;
}

export interface Buckets {
  hour: string;
  day: string;
  month: string;
}

/** What a call must remember to give its slot back: the keys of the buckets it was counted in. */
export interface SlotRef {
  linkId: string;
  slotId: string;
  buckets: Buckets;
  /** The Asterisk node of the call (default ''). */
  nodeId?: string;
}

export type TakeResult = 'taken' | 'duplicate' | 'concurrency' | 'hourly' | 'daily' | 'monthly' | 'total';
const TAKE_CODES: Record<string, TakeResult> = {
  '1': 'taken',
  '0': 'duplicate',
  '-1': 'concurrency',
  '-2': 'hourly',
  '-3': 'daily',
  '-4': 'monthly',
  '-5': 'total',
};

export function slotKeys(k: RedisKeys, ref: SlotRef): string[] {
  const t = ref.linkId;
  return [
    k.tagged('link', t, 'live'),
    k.tagged('link', t, 'h', ref.buckets.hour),
    k.tagged('link', t, 'd', ref.buckets.day),
    k.tagged('link', t, 'm', ref.buckets.month),
    k.tagged('link', t, 'total'),
    k.tagged('link', t, 'slot', ref.slotId),
  ];
}

const cap = (n: number | null) => (n === null || n === undefined ? -1 : n);

export function takeArgs(
  now: number,
  slotTtlMs: number,
  slotId: string,
  caps: LinkCaps,
  b: Buckets,
  nodeId = '',
  seedTotal = -1,
): (string | number)[] {
  return [
    now,
    slotTtlMs,
    slotId,
    cap(caps.concurrency),
    cap(caps.hourly),
    cap(caps.daily),
    cap(caps.monthly),
    cap(caps.total),
    2 * 3600, // an hour bucket outlives its hour (time zones, clock skew) but not by much
    2 * 86400,
    32 * 86400,
    b.hour,
    b.day,
    b.month,
    nodeId,
    seedTotal,
  ];
}

export class SlotStore {
  /** Links this process has put in the `routing:links` set (forgotten at each reconcile, so a
   *  Redis that lost the set gets it back within one interval). */
  private registered = new Set<string>();

  constructor(
    private redis: Redis,
    private keys: RedisKeys,
    private slotTtlMs: number,
  ) {
    defineScripts(redis, SCRIPTS);
  }

  /**
   * Takes a slot under every cap. `totalAnswered` (PostgreSQL's count) seeds the link's total in the
   * same script when Redis has none (first start, Redis lost), so a total cap costs no extra trip.
   */
  async take(ref: SlotRef, caps: LinkCaps, now = Date.now(), totalAnswered?: number): Promise<TakeResult> {
    const r = await callScript<number>(
      this.redis,
      'takeSlot',
      slotKeys(this.keys, ref),
      takeArgs(now, this.slotTtlMs, ref.slotId, caps, ref.buckets, ref.nodeId, totalAnswered ?? -1),
    );
    // The set of links with slots (what reconcile walks) needs each link once, not once a call.
    if (r === 1 && !this.registered.has(ref.linkId)) {
      await this.redis.sadd(this.keys.plain('routing', 'links'), ref.linkId);
      this.registered.add(ref.linkId);
    }
    return TAKE_CODES[String(r)] ?? 'duplicate';
  }

  /** True the first time a slot is marked answered. */
  async answer(ref: SlotRef): Promise<boolean> {
    return (await callScript<number>(this.redis, 'answerSlot', [slotKeys(this.keys, ref)[5]!], [])) === 1;
  }

  /** Gives a slot back exactly once; returns what happened. */
  async release(ref: SlotRef): Promise<'answered' | 'refunded' | 'already'> {
    const r = await callScript<number>(this.redis, 'releaseSlot', slotKeys(this.keys, ref), [
      ref.slotId,
      this.slotTtlMs,
    ]);
    return r === 2 ? 'answered' : r === 1 ? 'refunded' : 'already';
  }

  /** Live slots on a link (expired ones excluded). */
  async live(linkId: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.keys.tagged('link', linkId, 'live'), `(${now}`, '+inf');
  }

  async counters(
    linkId: string,
    b: Buckets,
  ): Promise<{ hourly: number; daily: number; monthly: number; total: number }> {
    const [h, d, m, t] = await this.redis.mget(
      this.keys.tagged('link', linkId, 'h', b.hour),
      this.keys.tagged('link', linkId, 'd', b.day),
      this.keys.tagged('link', linkId, 'm', b.month),
      this.keys.tagged('link', linkId, 'total'),
    );
    return { hourly: Number(h ?? 0), daily: Number(d ?? 0), monthly: Number(m ?? 0), total: Number(t ?? 0) };
  }

  /** Every live slot id per link, for reconciliation against Asterisk's channels. */
  async liveSlots(now = Date.now()): Promise<Array<{ linkId: string; slotId: string }>> {
    const links = await this.redis.smembers(this.keys.plain('routing', 'links'));
    const out: Array<{ linkId: string; slotId: string }> = [];
    for (const linkId of links) {
      const ids = await this.redis.zrangebyscore(this.keys.tagged('link', linkId, 'live'), `(${now}`, '+inf');
      for (const slotId of ids) out.push({ linkId, slotId });
    }
    return out;
  }

  /**
   * The live slots of these legs (taken by an instance that is gone), as the refs that release them:
   * a takeover frees exactly the slots of the calls it takes over.
   */
  async slotsOf(legIds: readonly string[], now = Date.now()): Promise<Map<string, SlotRef>> {
    const want = new Set(legIds);
    const out = new Map<string, SlotRef>();
    if (!want.size) return out;
    for (const { linkId, slotId } of await this.liveSlots(now)) {
      if (!want.has(slotId)) continue;
      const st = await this.redis.hgetall(this.keys.tagged('link', linkId, 'slot', slotId));
      out.set(slotId, {
        linkId,
        slotId,
        buckets: { hour: st.h ?? '', day: st.d ?? '', month: st.m ?? '' },
        ...(st.node ? { nodeId: st.node } : {}),
      });
    }
    return out;
  }

  /**
   * Releases this node's slots whose call is gone. `listedAt` is when the live channels were listed:
   * a slot taken after it (by any instance) belongs to a call the list could not show yet.
   */
  async reconcile(
    nodeId: string,
    isLive: (slotId: string) => boolean,
    listedAt: number,
    now = Date.now(),
  ): Promise<number> {
    let released = 0;
    this.registered.clear();
    for (const { linkId, slotId } of await this.liveSlots(now)) {
      if (isLive(slotId)) continue;
      const st = await this.redis.hgetall(this.keys.tagged('link', linkId, 'slot', slotId));
      if ((st.node ?? '') !== nodeId || Number(st.at ?? 0) >= listedAt) continue;
      const buckets = { hour: st.h ?? '', day: st.d ?? '', month: st.m ?? '' };
      if ((await this.release({ linkId, slotId, buckets })) !== 'already') released++;
    }
    return released;
  }

  /** Duplicate-caller memory: which client answered this caller on this campaign, for `hours`. */
  async rememberCaller(campaignId: string, caller: string, clientId: string, hours: number): Promise<void> {
    await this.redis.set(
      this.keys.tagged('campaign', campaignId, 'dup', caller),
      clientId,
      'EX',
      hours * 3600,
    );
  }

  async lastClientOf(campaignId: string, caller: string): Promise<string | null> {
    return this.redis.get(this.keys.tagged('campaign', campaignId, 'dup', caller));
  }

  /**
   * The next round-robin position of a campaign. Positions come from one Redis counter shared by
   * every instance, taken RR_BLOCK at a time, and the next block is asked for when half of the
   * current one is used: no call waits for a round trip once a campaign has had its first. An
   * instance hands its blocks out in order, so one instance rotates exactly; several instances each
   * rotate over their own disjoint positions, which keeps the spread even across them (and keeps
   * them from all starting on the same link).
   */
  async nextRoundRobin(campaignId: string): Promise<number> {
    for (;;) {
      const blocks = this.rrBlocks.get(campaignId) ?? [];
      const block = blocks[0];
      if (block) {
        const pos = block.next++;
        if (block.next > block.last) blocks.shift();
        const left = blocks.reduce((n, b) => n + b.last - b.next + 1, 0);
        if (left < RR_BLOCK / 2) this.refillRoundRobin(campaignId).catch(() => {});
        return pos;
      }
      await this.refillRoundRobin(campaignId);
    }
  }

  private refillRoundRobin(campaignId: string): Promise<void> {
    let refill = this.rrRefills.get(campaignId);
    if (!refill) {
      refill = this.redis
        .incrby(this.keys.tagged('campaign', campaignId, 'rr'), RR_BLOCK)
        .then((last) => {
          const blocks = this.rrBlocks.get(campaignId) ?? [];
          blocks.push({ next: last - RR_BLOCK + 1, last });
          this.rrBlocks.set(campaignId, blocks);
        })
        .finally(() => this.rrRefills.delete(campaignId));
      this.rrRefills.set(campaignId, refill);
    }
    return refill;
  }

  private rrBlocks = new Map<string, Array<{ next: number; last: number }>>();
  private rrRefills = new Map<string, Promise<void>>();
}

/** Round-robin positions an instance takes from the shared counter at once. */
export const RR_BLOCK = 16;
