// The hold queues, shared by every instance: per link, a Redis sorted set of the calls waiting for
// it (`link:<id>:waiting`, call ids scored by the time they joined), so the call that waited longest
// for a link is first in line for it wherever it waits. A call waits for the links that refused it
// for a concurrency cap (the one cap that frees by itself): the link's, or its seller's, DID's or
// group's (it is then held back there by that cap, below). The slot-taking script (takeSlot-n.lua)
// reads the link's line in the same step as it takes: a call may take a slot there only when every
// caller ahead of it is held back by a cap of its own (its seller's, DID's or group's) that is still
// full (`lineAdmits`, in queue-line.ts); a newly arriving call is refused (and joins the line) while anyone who
// could take the slot waits for the link. What holds a waiter back is marked by the script when that
// cap refuses it (`link:<id>:held`), and judged again at each take. A seller, DID or group with a
// concurrency cap keeps a line the same way (`<kind>:<id>:waiting`): the waiters its cap refused,
// whichever link, so its freed slot goes to the first of them on any link (takeSlot-n.lua).
// Entries of calls an instance crashed with would block the line: an entry older than the longest
// wait (plus a margin) is dropped by whoever takes a slot there.
//
// Waiters are woken, not polling: the script that releases a slot publishes the link's id (and the
// other owners the slot counted against) on one channel when a concurrency slot freed, the script
// that takes publishes the link's id when a waiter is newly held back (those behind it may take the
// slot now), and a call leaving a queue publishes its campaign's id (the next in line may now be
// first, and a second slot may have freed meanwhile). Each instance with waiters subscribes and wakes
// its own waiters of each link concerned in line order, up to the first that is not held back, and
// those held back by an owner named in the message. Pub/sub delivers at most once (a subscriber
// that is reconnecting misses messages), so waiters keep a slow poll as well.
//
// Rounds of turns: when every waiter on every instance gets a turn (a plan change, a new hour), a
// mark made before may be out of date, and the instances turn their waiters at once, not in the
// line's order. So such a round raises a counter in Redis first (`queue-turns`), and the slot
// script no longer lets a mark of an earlier round hold its waiter back: the one behind it is judged
// only once the waiter's own turn of this round has marked it again (or served it), on whichever
// instance each waits. A new hour's round is started once for the whole cluster: the first instance
// to claim it (wakeHour-2.lua) raises the counter and publishes the wake-up in one step.
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import { type RedisOutageLog, subscriberOf } from '../platform/redis/client.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';
import { registerScripts } from '../platform/redis/scripts.ts';
import { campaignWake, hourWake, parseWake, STALE_MARGIN_MS, type Wake } from './queue-line.ts';

/** How long an hour's claim is kept: past any skew between the instances' clocks. */
const HOUR_CLAIM_MS = 10 * 60_000;

/** A cap owner beside the link (`seller`, `did`, `group`) and its id. */
export interface OwnerId {
  kind: string;
  id: string;
}

// The pure side lives in queue-line.ts; its names stay importable from here.
export {
  lineAdmits,
  linkWake,
  parseWake,
  STALE_MARGIN_MS,
  staleBefore,
  type Wake,
} from './queue-line.ts';

export class HoldQueue {
  private sub: Redis | null = null;
  private onWake: ((w: Wake) => void) | null = null;
  /** Subscribed (listen resolved) and not unlistened since. */
  private hearing = false;

  constructor(
    private redis: Redis,
    private keys: RoutingKeys,
    /** Where the wake-up subscription's outages are said and its errors counted (`hold-queue`). */
    private watch: { log?: RedisOutageLog; metrics?: Registry } = {},
  ) {
    registerScripts(redis);
  }

  /**
   * Joins the line of each of these links, as of `at` (kept if already there), and the line of each
   * owner whose concurrency cap refused the call (`seller`, `did`, `group`; kept until its wait ends).
   */
  async join(
    callId: string,
    linkIds: readonly string[],
    at: number,
    maxWaitS: number,
    owners: readonly OwnerId[] = [],
  ): Promise<void> {
    if (!linkIds.length) return;
    const m = this.redis.multi();
    const ttl = maxWaitS * 1000 + STALE_MARGIN_MS;
    for (const l of linkIds) {
      const key = this.keys.link(l, 'waiting');
      m.zadd(key, 'NX', at, callId).pexpire(key, ttl);
    }
    for (const o of owners) {
      const [line, until] = [
        this.keys.owner(o.kind, o.id, 'waiting'),
        this.keys.owner(o.kind, o.id, 'until'),
      ];
      m.zadd(line, 'NX', at, callId).zadd(until, 'NX', at + ttl, callId);
      // Never shortened: another campaign's caller may wait longer in the same line.
      m.pexpire(line, ttl, 'GT').pexpire(until, ttl, 'GT').pexpire(line, ttl, 'NX').pexpire(until, ttl, 'NX');
    }
    await m.exec();
  }

  /**
   * Leaves the lines of these links and owners, and tells the others the campaign's lines moved (one
   * round trip).
   */
  async leave(
    campaignId: string,
    callId: string,
    linkIds: readonly string[],
    owners: readonly OwnerId[] = [],
  ): Promise<void> {
    const p = this.redis.pipeline();
    for (const l of linkIds)
      p.zrem(this.keys.link(l, 'waiting'), callId).hdel(this.keys.link(l, 'held'), callId);
    for (const o of owners)
      p.zrem(this.keys.owner(o.kind, o.id, 'waiting'), callId)
        .zrem(this.keys.owner(o.kind, o.id, 'until'), callId)
        .hdel(this.keys.owner(o.kind, o.id, 'held'), callId);
    await p.publish(this.keys.queueWake, campaignWake(campaignId)).exec();
  }

  /**
   * A new round of turns (the plans changed: every waiter here gets a turn, and so on every
   * instance): marks made before no longer hold anyone back.
   */
  async newRound(): Promise<void> {
    await this.redis.incr(this.keys.queueTurns);
  }

  /**
   * The hour starting at `at` (ms on the routing clock) has begun: claims its wake-up for the
   * cluster. True: claimed here, a new round begun and every instance's waiters woken (this one's by
   * the message too); false: another instance claimed it.
   */
  async claimHour(at: number): Promise<boolean> {
    const r = await this.redis.wakeHour(
      this.keys.queueHour(at),
      this.keys.queueTurns,
      this.keys.queueWake,
      hourWake(at),
      HOUR_CLAIM_MS,
    );
    return r === 1;
  }

  /** The calls waiting for an owner's concurrency (`seller`, `did`, `group`), first in line first. */
  async waitingFor(kind: string, id: string): Promise<string[]> {
    return this.redis.zrange(this.keys.owner(kind, id, 'waiting'), '0', '-1');
  }

  /** The calls waiting for a link, first in line first (tests, the console). */
  async waiting(linkId: string): Promise<string[]> {
    return this.redis.zrange(this.keys.link(linkId, 'waiting'), '0', '-1');
  }

  /**
   * Starts hearing wake-ups (idempotent); resolves once subscribed, or rejects if Redis refused (the
   * subscription is retried by the connection itself; the waiters' poll serves meanwhile). Its own
   * connection (subscriberOf): it queues commands while Redis is away (the daemon's own does not),
   * subscribes again after a reconnect, and its outages are logged and counted as every connection's.
   */
  async listen(onWake?: (w: Wake) => void): Promise<void> {
    // Without a handler: the one given before (hearing again after `unlisten`).
    if (onWake) this.onWake = onWake;
    if (!this.sub) {
      const sub = subscriberOf(this.redis, { name: 'hold-queue', ...this.watch });
      this.sub = sub;
      sub.on('message', (_ch: string, msg: string) => {
        const w = parseWake(msg);
        if (w) this.onWake?.(w);
      });
      // Connected again (Redis restarted, the link broke): what was published meanwhile is lost.
      // Once subscribed again (acknowledged, so every later wake-up is heard), every waiter looks:
      // a slot freed while nobody heard is seen by that look, one freed after it by a wake-up.
      sub.on('ready', () => {
        if (!this.hearing) return;
        sub
          .subscribe(this.keys.queueWake)
          .then(() => {
            if (this.hearing) this.onWake?.({ reheard: true });
          })
          .catch(() => {});
      });
    }
    await this.sub.subscribe(this.keys.queueWake);
    this.hearing = true;
  }

  /** Stops hearing wake-ups (no waiter left on this instance, or shutting down). */
  async unlisten(): Promise<void> {
    const sub = this.sub;
    if (!sub) return;
    this.hearing = false;
    await sub.unsubscribe(this.keys.queueWake).catch(() => {});
  }

  /** Closes the subscription's connection (daemon stopping). */
  close(): void {
    this.hearing = false;
    this.sub?.disconnect();
    this.sub = null;
  }
}
