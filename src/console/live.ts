// The live floor's data path. Each instance publishes a snapshot of its own calls, node links and
// call counters on one Redis channel (when they change, and at least every few seconds); each
// instance with consoles open subscribes, merges every instance's latest snapshot with the links'
// usage read from Redis (where caps are decided), and pushes one frame a second to its consoles over
// server-sent events: built once per seller scope, never polled per browser.
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { NodeHealth } from '../asterisk/index.ts';
import type { Logger } from '../platform/logger.ts';
import { isPgUnavailable } from '../platform/pg-errors.ts';
import { isRedisUnavailable, subscriberOf } from '../platform/redis/client.ts';
import type { LiveCall } from '../routing/router.ts';
import type { OwnersUsage } from '../routing/usage.ts';

export type { LiveCall };

export interface Usage {
  used: number;
  cap: number | null;
}

export interface LinkUsage {
  link_id: string;
  campaign_id: string;
  campaign: string;
  client_id: string;
  client: string;
  seller_id: string;
  active: boolean;
  priority: number;
  weight: number;
  live: Usage;
  hourly: Usage;
  daily: Usage;
  monthly: Usage;
  total: Usage;
}

/** What one instance publishes about itself. */
export interface InstanceSnapshot {
  instance: string;
  at: number;
  calls: LiveCall[];
  nodes: NodeHealth[];
  /** Calls finished since the instance started, and how many of them were answered. */
  routed: number;
  answered: number;
}

/** What the hub needs from its own instance (none of it when the instance routes no calls). */
export interface LiveSource {
  calls(): LiveCall[];
  nodes(): NodeHealth[];
  counters(): Promise<{ routed: number; answered: number }>;
}

/** One point of the rate charts: calls finished per second and the share answered, per bucket. */
export interface RatePoint {
  t: number;
  calls_per_s: number;
  answer_rate: number | null;
}

export interface Frame {
  at: number;
  calls: Array<Omit<LiveCall, 'client_id' | 'seller_id'> & { client: string | null; seller: string | null }>;
  links: LinkUsage[];
  /** Sellers, DIDs and buyer groups that carry caps, against them (a seller's frame: its own, no group). */
  sellers: OwnersUsage['sellers'];
  dids: OwnersUsage['dids'];
  groups: OwnersUsage['groups'];
  nodes: Array<NodeHealth & { instance: string }>;
  rates: RatePoint[];
}

export interface LiveClient {
  /** The seller the client is limited to; null for every seller. */
  scope: string | null;
  /** The session the stream belongs to: it ends when that session does (sessions.ts). */
  session?: string;
  send(data: string): void;
  end(): void;
}

const PUBLISH_EVERY_MS = 500;
const PUBLISH_AT_LEAST_MS = 3000;
/** An instance that said nothing for this long is gone (crashed or stopped). */
const INSTANCE_GONE_MS = 10_000;
const FRAME_EVERY_MS = 1000;
export const RATE_BUCKET_MS = 5000;
const RATE_BUCKETS = 60;
/** Longer between two snapshots of an instance than this: its counters are not folded in (count()). */
const MAX_SNAPSHOT_GAP_MS = 2 * RATE_BUCKET_MS;

/**
 * Publishes this instance's snapshot when it changes (checked twice a second), while some console
 * is open on any instance.
 */
export class LivePublisher {
  private timer: NodeJS.Timeout | null = null;
  private last = '';
  private lastAt = 0;
  private busy = false;

  constructor(
    private redis: Redis,
    private channel: string,
    private instance: string,
    private source: LiveSource,
    private log: Logger,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), PUBLISH_EVERY_MS);
    this.timer.unref();
  }

  async tick(now = Date.now()): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      // Nobody subscribed (no console open on any instance): the snapshot, every live call
      // serialised twice a second, would cost as much as the calls it describes and reach no one.
      // One round trip says so; the next snapshot after a console opens is then sent in full.
      if (!(await this.listened())) {
        this.last = '';
        return;
      }
      const c = await this.source.counters();
      const body = JSON.stringify({ calls: this.source.calls(), nodes: this.source.nodes(), ...c });
      if (body === this.last && now - this.lastAt < PUBLISH_AT_LEAST_MS) return;
      this.last = body;
      this.lastAt = now;
      await this.redis.publish(
        this.channel,
        `{"instance":${JSON.stringify(this.instance)},"at":${now},${body.slice(1)}`,
      );
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'live snapshot not published');
    } finally {
      this.busy = false;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Whether any instance's live hub is subscribed to the channel (PUBSUB NUMSUB). */
  private async listened(): Promise<boolean> {
    const r = (await this.redis.pubsub('NUMSUB', this.channel)) as [string, number | string];
    return Number(r[1]) > 0;
  }
}

/** Names and usage of links and of the other cap owners, read for each frame (floor.ts). */
export interface FloorReader {
  links(scope: string | null): Promise<LinkUsage[]>;
  owners(scope: string | null): Promise<OwnersUsage>;
  names(): Promise<{ clients: Map<string, string>; sellers: Map<string, string> }>;
}

/** The hub's own subscription is down: no instance's snapshot can reach it. */
class LiveSubscriptionLost extends Error {}

/** Why a frame could not be built, in words for the page (never the error's own text). */
export function frameFailure(err: unknown): string {
  if (err instanceof LiveSubscriptionLost || isRedisUnavailable(err))
    return 'Redis is not answering, so calls in progress and the usage against caps cannot be read';
  if (isPgUnavailable(err)) return 'the database is not answering, so links and names cannot be read';
  return 'the live floor could not be updated';
}

/** Merges every instance's snapshot and pushes frames to this instance's consoles. */
export class LiveHub {
  private clients = new Set<LiveClient>();
  private instances = new Map<string, InstanceSnapshot>();
  private sub: Redis | null = null;
  private timer: NodeJS.Timeout | null = null;
  private building = false;
  /** The subscription's connection was lost and is not back yet. */
  private subDown = false;
  /** Per instance, the counters last folded into the rate buckets, and the snapshot's time. */
  private seen = new Map<string, { routed: number; answered: number; at: number }>();
  private buckets: Array<{ t: number; routed: number; answered: number }> = [];
  /** Frames sent and their bytes, for the benchmark. */
  stats = { frames: 0, bytes: 0, builds: 0 };

  constructor(
    private redis: Redis,
    readonly channel: string,
    private floor: FloorReader,
    private log: Logger,
    /** Where ended sessions are announced (SessionStore.endedChannel); null: none. */
    readonly endedChannel: string | null = null,
    /** Where the subscription's errors are counted (`console-live`). */
    private metrics?: Registry,
  ) {}

  get listeners(): number {
    return this.clients.size;
  }

  /** Adds a console; the first one opens the subscription and starts the frames. */
  async add(c: LiveClient): Promise<() => void> {
    this.clients.add(c);
    if (!this.sub) {
      // Its own connection (subscriberOf), queueing until it is up: the daemon's connection refuses
      // commands while Redis is away, this one re-subscribes by itself.
      const sub = subscriberOf(this.redis, { name: 'console-live', log: this.log, metrics: this.metrics });
      this.sub = sub;
      sub.on('message', (ch: string, msg: string) =>
        ch === this.channel ? this.onSnapshot(msg) : this.onSessionsEnded(msg),
      );
      // Lost, no snapshot of any instance can arrive: the frames say so until it is back (and
      // subscribed again, which ioredis does by itself).
      sub.on('close', () => {
        this.subDown = true;
      });
      sub.on('ready', () => {
        this.subDown = false;
      });
      sub
        .subscribe(...[this.channel, this.endedChannel].filter((c): c is string => c !== null))
        .catch((err: Error) => this.log.warn({ err: err.message }, 'live floor not subscribed'));
      this.timer = setInterval(() => void this.push(), FRAME_EVERY_MS);
      this.timer.unref();
    }
    void this.push([c]);
    return () => {
      this.clients.delete(c);
      if (!this.clients.size) this.close();
    };
  }

  private close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.sub?.disconnect();
    this.sub = null;
    this.subDown = false;
    this.instances.clear();
  }

  /** Ends every console's stream (daemon stopping). */
  endAll(): void {
    for (const c of this.clients) c.end();
    this.clients.clear();
    this.close();
  }

  /** Sessions ended (on any instance): their streams end now (the browser then finds it signed out). */
  onSessionsEnded(msg: string): void {
    let ids: unknown;
    try {
      ids = JSON.parse(msg);
    } catch {
      return;
    }
    if (!Array.isArray(ids)) return;
    const ended = new Set(ids);
    for (const c of [...this.clients]) if (c.session && ended.has(c.session)) c.end();
  }

  onSnapshot(msg: string): void {
    let s: InstanceSnapshot;
    try {
      s = JSON.parse(msg) as InstanceSnapshot;
    } catch {
      return;
    }
    if (typeof s.instance !== 'string' || !Array.isArray(s.calls)) return;
    this.instances.set(s.instance, s);
    this.count(s);
  }

  /** Folds an instance's finished-call counters into the current rate bucket. */
  private count(s: InstanceSnapshot): void {
    const prev = this.seen.get(s.instance);
    this.seen.set(s.instance, { routed: s.routed, answered: s.answered, at: s.at });
    if (!prev || s.routed < prev.routed) return; // first sight, or the instance restarted
    // Snapshots come every few seconds; after a longer silence (no console was open, so nothing was
    // published; Redis away) the difference spans minutes and would show as one 5-second spike
    // of every call finished meanwhile: it only sets the baseline (the gap counts nothing).
    if (s.at - prev.at > MAX_SNAPSHOT_GAP_MS) return;
    const t = Math.floor(s.at / RATE_BUCKET_MS) * RATE_BUCKET_MS;
    let b = this.buckets.at(-1);
    if (!b || b.t !== t) {
      b = { t, routed: 0, answered: 0 };
      this.buckets.push(b);
      if (this.buckets.length > RATE_BUCKETS) this.buckets.shift();
    }
    b.routed += s.routed - prev.routed;
    b.answered += Math.max(0, s.answered - prev.answered);
  }

  rates(now = Date.now()): RatePoint[] {
    const byT = new Map(this.buckets.map((b) => [b.t, b]));
    const last = Math.floor(now / RATE_BUCKET_MS) * RATE_BUCKET_MS;
    const out: RatePoint[] = [];
    for (let t = last - (RATE_BUCKETS - 1) * RATE_BUCKET_MS; t <= last; t += RATE_BUCKET_MS) {
      const b = byT.get(t);
      out.push({
        t,
        calls_per_s: b ? b.routed / (RATE_BUCKET_MS / 1000) : 0,
        answer_rate: b?.routed ? b.answered / b.routed : null,
      });
    }
    return out;
  }

  /** Builds a frame per scope among `to` (default: every console) and sends it. */
  async push(to: Iterable<LiveClient> = this.clients): Promise<void> {
    const targets = [...to];
    if (!targets.length || (this.building && to === this.clients)) return;
    this.building = true;
    try {
      if (this.subDown) throw new LiveSubscriptionLost();
      const now = Date.now();
      for (const [id, s] of this.instances) if (now - s.at > INSTANCE_GONE_MS) this.instances.delete(id);
      const byScope = new Map<string | null, LiveClient[]>();
      for (const c of targets) byScope.set(c.scope, [...(byScope.get(c.scope) ?? []), c]);
      const names = await this.floor.names();
      const calls = [...this.instances.values()].flatMap((s) => s.calls);
      const nodes = [...this.instances.values()].flatMap((s) =>
        s.nodes.map((n) => ({ ...n, instance: s.instance })),
      );
      const rates = this.rates(now);
      for (const [scope, cs] of byScope) {
        const frame: Frame = {
          at: now,
          calls: calls
            .filter((c) => !scope || c.seller_id === scope)
            // Names instead of ids: a frame carries thousands of calls, every byte counts 20 times.
            .map((c) => ({
              call_id: c.call_id,
              node_id: c.node_id,
              did: c.did,
              caller: c.caller,
              phase: c.phase,
              started_at: c.started_at,
              client: c.client_id ? (names.clients.get(c.client_id) ?? null) : null,
              seller: c.seller_id ? (names.sellers.get(c.seller_id) ?? null) : null,
            })),
          links: await this.floor.links(scope),
          ...(await this.floor.owners(scope)),
          nodes,
          rates,
        };
        const data = `data: ${JSON.stringify(frame)}\n\n`;
        this.stats.builds++;
        for (const c of cs) {
          c.send(data);
          this.stats.frames++;
          this.stats.bytes += Buffer.byteLength(data);
        }
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'live frame not built');
      // The consoles say why they stand still (console.js), and go on at the next frame that builds.
      const data = `event: failed\ndata: ${JSON.stringify({ status: 503, message: frameFailure(err) })}\n\n`;
      for (const c of targets) c.send(data);
    } finally {
      this.building = false;
    }
  }
}
