// Routing slots in Redis: the only place caps are decided. Each operation is one Lua script run
// through the platform's gateway (src/platform/redis): key names from RoutingKeys, KEYS/ARGV built by
// pure functions (testable without Redis), replies decoded in codes.ts. Every routing key carries
// the one hash tag {routing}, so a script may check a call against the caps of its link and, in
// one step, of anything else the call counts against, and stays legal on Redis Cluster. The pure
// side (slot refs, KEYS and ARGV) is in slot-args.ts; this file runs the scripts with them.
// Why about 400 lines: one SlotStore per connection holds what every operation shares (the scripts
// registered on it, the data-loss epoch a take waits behind while live slots are put back, the links
// already listed); the campaign memory at its end (a returning caller's client, round-robin blocks)
// rides on the same connection and routing keys, and is what would leave first.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  TAKE_DATA_LOST,
  decodeDone,
  decodeRelease,
  decodeTake,
  type ReleaseResult,
  type TakeResult,
} from '../platform/redis/codes.ts';
import type { RedisKeys, RoutingKeys } from '../platform/redis/keys.ts';
import { corked, execPipeline, registerScripts } from '../platform/redis/scripts.ts';
import { adoptLegacyRoutingKeys } from './legacy-keys.ts';
import { linkWake } from './queue-line.ts';
import {
  type Buckets,
  type LinkCaps,
  type OwnerLimits,
  type QueueCheck,
  refOf,
  type SlotRef,
  slotKeys,
  takeArgs,
  takeKeys,
} from './slot-args.ts';

export type { CapReason, SourceKind, TakeResult } from '../platform/redis/codes.ts';
export {
  type Buckets,
  decodeSources,
  encodeSources,
  hasCaps,
  type LinkCaps,
  type OwnerLimits,
  type QueueCheck,
  type SlotRef,
  type SourceRef,
  slotKeys,
  takeArgs,
  takeKeys,
} from './slot-args.ts';

/**
 * Redis was found without its data: `marked` when this instance set the new epoch marker (one
 * instance does, so what must happen once in all is done there), `at` when it was found.
 */
export interface DataLoss {
  marked: boolean;
  at: number;
}

/** An owner's uses in its current hour, day and month buckets (put back after a data loss). */
export interface OwnerUseCounts {
  kind: string;
  id: string;
  buckets: Buckets;
  hourly: number;
  daily: number;
  monthly: number;
}

/** What a slot is put back as after Redis lost its data. */
export type RestoredState = 'taken' | 'answered';

const NO_CAPS: LinkCaps = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };

export class SlotStore {
  /** The epoch marker this process last saw (null: none yet). */
  private epoch: string | null = null;
  /** Set while the slots of live calls are being put back: takes wait for it. */
  private rebuilding: Promise<void> | null = null;
  private lostHandlers: Array<(loss: DataLoss) => Promise<void>> = [];
  private epochTimer: NodeJS.Timeout | null = null;
  /** Links this process has put in the `routing:links` set (forgotten at each reconcile, so a
   *  Redis that lost the set gets it back within one interval). */
  private registered = new Set<string>();

  private keys: RoutingKeys;
  private prefix: string;
  /** The pass bringing keys of the earlier layout over (legacy-keys.ts): how many it took. */
  readonly legacyAdopted: Promise<number>;
  constructor(
    private redis: Redis,
    keys: RedisKeys,
    private slotTtlMs: number,
  ) {
    this.keys = keys.routing;
    this.prefix = keys.prefix;
    registerScripts(redis);
    // In the background, beside the first calls (it merges into keys they may have written).
    this.legacyAdopted = adoptLegacyRoutingKeys(redis, this.prefix, this.keys).catch(() => 0);
  }

  /**
   * Takes a slot under every cap of its link and of each other owner in `ref.sources` (`sources`
   * holds their limits, in the same order), in one script call. `totalAnswered` (PostgreSQL's count)
   * seeds an owner's total in the same script when Redis has none (first start, Redis lost), so a
   * total cap costs no extra trip. With `queue` (the call's campaign has a hold queue), a caller that
   * waits for the link and was there first keeps the slot: the take answers `waiting`.
   */
  async take(
    ref: SlotRef,
    caps: LinkCaps,
    now = Date.now(),
    totalAnswered?: number,
    sources: readonly OwnerLimits[] = [],
    queue?: QueueCheck,
  ): Promise<TakeResult> {
    const keys = takeKeys(this.keys, ref, queue);
    const limits = [{ caps, totalAnswered }, ...sources];
    const args = takeArgs(now, this.slotTtlMs, ref, limits, queue, this.keys.queueWake);
    let raw: number;
    for (let tries = 0; ; tries++) {
      if (this.rebuilding) await this.rebuilding;
      raw = await corked(this.redis).takeSlot(keys.length, ...keys, ...args);
      // Redis lost its data: the live calls' slots go back before this one is judged against them.
      if (raw !== TAKE_DATA_LOST || tries >= 3) break;
      await this.dataLost();
    }
    const r = decodeTake(
      raw,
      (ref.sources ?? []).map((o) => o.kind),
    );
    // The set of links with slots (what reconcile walks) needs each link once, not once a call.
    if (r === 'taken' && !this.registered.has(ref.linkId)) {
      await this.redis.sadd(this.keys.links, ref.linkId);
      this.registered.add(ref.linkId);
    }
    return r;
  }

  /**
   * True the first time a slot is marked answered; the use is then waiting in Redis for PostgreSQL's
   * totals (the link's and its other owners', see totals.ts).
   */
  async answer(ref: SlotRef): Promise<boolean> {
    return decodeDone(
      'answerSlot',
      await corked(this.redis).answerSlot(
        this.keys.link(ref.linkId, 'slot', ref.slotId),
        this.keys.totalsPending,
        ref.linkId,
        ref.slotId,
      ),
    );
  }

  /**
   * Called when Redis lost its data (each handler puts back what its part of the process holds).
   * The handlers run before any take goes on.
   */
  onDataLost(h: (loss: DataLoss) => Promise<void>): void {
    this.lostHandlers.push(h);
  }

  /** Reads (or sets, on a Redis that has none) the epoch marker; then checks it every `everyMs`. */
  async watchEpoch(everyMs: number): Promise<void> {
    await this.checkEpoch().catch(() => {});
    this.epochTimer ??= setInterval(() => void this.checkEpoch().catch(() => {}), everyMs);
    this.epochTimer.unref();
  }

  stopWatching(): void {
    if (this.epochTimer) clearInterval(this.epochTimer);
    this.epochTimer = null;
  }

  /** Redis lost its data if the marker is gone or another than the one this process knows. */
  async checkEpoch(): Promise<void> {
    const now = await this.redis.get(this.keys.epoch);
    if (now !== null && now === this.epoch) return;
    await this.dataLost();
  }

  /**
   * Single-flight: a new marker (one instance sets it, the others read it), then — unless this
   * process never saw one (its first start, or a Redis of an earlier version) — every handler.
   */
  private dataLost(): Promise<void> {
    this.rebuilding ??= (async () => {
      const at = Date.now();
      const marked = (await this.redis.set(this.keys.epoch, randomUUID(), 'NX')) === 'OK';
      const seen = await this.redis.get(this.keys.epoch);
      const first = this.epoch === null;
      this.epoch = seen;
      this.registered.clear();
      if (first) return;
      for (const h of this.lostHandlers) await h({ marked, at });
    })().finally(() => {
      this.rebuilding = null;
    });
    return this.rebuilding;
  }

  /** Puts a live call's slot back after Redis lost its data (no cap checked: the call is up). */
  async restore(ref: SlotRef, state: RestoredState, now = Date.now()): Promise<boolean> {
    const keys = slotKeys(this.keys, ref);
    const args = takeArgs(now, this.slotTtlMs, ref, [
      { caps: NO_CAPS },
      ...(ref.sources ?? []).map(() => ({ caps: NO_CAPS })),
    ]).slice(0, 11);
    const r = await this.redis.restoreSlot(keys.length, ...keys, ...args, state);
    await this.redis.sadd(this.keys.links, ref.linkId);
    return decodeDone('restoreSlot', r);
  }

  /**
   * Adds uses of ended calls back to owners' hour, day and month counters (after Redis lost its
   * data; the buckets are the current ones), with the TTLs takeSlot gives them.
   */
  async addUses(uses: ReadonlyArray<OwnerUseCounts>): Promise<void> {
    if (!uses.length) return;
    const pipe = this.redis.pipeline();
    for (const u of uses) {
      const counters: Array<[string, number, number]> = [
        [this.keys.owner(u.kind, u.id, 'h', u.buckets.hour), u.hourly, 2 * 3600],
        [this.keys.owner(u.kind, u.id, 'd', u.buckets.day), u.daily, 2 * 86400],
        [this.keys.owner(u.kind, u.id, 'm', u.buckets.month), u.monthly, 32 * 86400],
      ];
      for (const [key, n, ttl] of counters) {
        if (n <= 0) continue;
        pipe.incrby(key, n);
        pipe.expire(key, ttl);
      }
    }
    await execPipeline(pipe);
  }

  /**
   * Gives a slot back exactly once, to every owner it was counted against; returns what happened.
   * A concurrency slot freed is announced on the hold queues' channel by the same script (queue.ts).
   */
  async release(ref: SlotRef): Promise<ReleaseResult> {
    const keys = slotKeys(this.keys, ref);
    return decodeRelease(
      await corked(this.redis).releaseSlot(
        keys.length,
        ...keys,
        ref.slotId,
        this.slotTtlMs,
        this.keys.queueWake,
        linkWake(ref.linkId, ref.sources),
      ),
    );
  }

  /** Live slots on a link (expired ones excluded). */
  async live(linkId: string, now = Date.now()): Promise<number> {
    return this.liveOf('link', linkId, now);
  }

  /** Live slots counted against any cap owner (`link`, `seller`, `did`, `group`). */
  async liveOf(kind: string, id: string, now = Date.now()): Promise<number> {
    return this.redis.zcount(this.keys.owner(kind, id, 'live'), `(${now}`, '+inf');
  }

  async counters(linkId: string, b: Buckets) {
    return this.countersOf('link', linkId, b);
  }

  /** An owner's answered (and reserved) calls in these buckets and in total. */
  async countersOf(
    kind: string,
    id: string,
    b: Buckets,
  ): Promise<{ hourly: number; daily: number; monthly: number; total: number }> {
    const [h, d, m, t] = await this.redis.mget(
      this.keys.owner(kind, id, 'h', b.hour),
      this.keys.owner(kind, id, 'd', b.day),
      this.keys.owner(kind, id, 'm', b.month),
      this.keys.owner(kind, id, 'total'),
    );
    return { hourly: Number(h ?? 0), daily: Number(d ?? 0), monthly: Number(m ?? 0), total: Number(t ?? 0) };
  }

  /** Every live slot id per link, for reconciliation against Asterisk's channels. */
  async liveSlots(now = Date.now()): Promise<Array<{ linkId: string; slotId: string }>> {
    const links = await this.redis.smembers(this.keys.links);
    const out: Array<{ linkId: string; slotId: string }> = [];
    for (const linkId of links) {
      const ids = await this.redis.zrangebyscore(this.keys.link(linkId, 'live'), `(${now}`, '+inf');
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
      const st = await this.redis.hgetall(this.keys.link(linkId, 'slot', slotId));
      out.set(slotId, refOf(linkId, slotId, st));
    }
    return out;
  }

  /**
   * The live slots of these calls (slot ids are `<call id>-<n>`), as the refs that release them:
   * a call taken over from its state in Redis also finds the slot its owner took just before dying,
   * before it could record the attempt.
   */
  async slotsOfCalls(callIds: readonly string[], now = Date.now()): Promise<Map<string, SlotRef>> {
    const want = new Set(callIds);
    const out = new Map<string, SlotRef>();
    if (!want.size) return out;
    for (const { linkId, slotId } of await this.liveSlots(now)) {
      if (!want.has(slotId.replace(/-\d+$/, ''))) continue;
      const st = await this.redis.hgetall(this.keys.link(linkId, 'slot', slotId));
      out.set(slotId, refOf(linkId, slotId, st));
    }
    return out;
  }

  /**
   * Releases this node's slots whose call is gone, for every owner each was counted against (the
   * slot's hash names them). `listedAt` is when the live channels were listed:
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
      const st = await this.redis.hgetall(this.keys.link(linkId, 'slot', slotId));
      if ((st.node ?? '') !== nodeId || Number(st.at ?? 0) >= listedAt) continue;
      if ((await this.release(refOf(linkId, slotId, st))) !== 'already') released++;
    }
    return released;
  }

  /** Duplicate-caller memory: which client answered this caller on this campaign, for `hours`. */
  async rememberCaller(campaignId: string, caller: string, clientId: string, hours: number): Promise<void> {
    await this.redis.set(this.keys.campaign(campaignId, 'dup', caller), clientId, 'EX', hours * 3600);
  }

  async lastClientOf(campaignId: string, caller: string): Promise<string | null> {
    return this.redis.get(this.keys.campaign(campaignId, 'dup', caller));
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
        .incrby(this.keys.campaign(campaignId, 'rr'), RR_BLOCK)
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
