// Live calls' state in Redis (call-record.ts says what is kept and why) and the heartbeat that says
// which instances are alive, through the platform's Redis gateway. A call belongs to the instance
// that took it from StasisStart; another takes it over only once that one's heartbeat is older than
// `deadAfterMs` (claimCall-2.lua: one winner however many try), and only the owner of the moment
// writes its CDR (endCall-1.lua).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { type ClaimResult, decodeClaim, decodeDone } from '../platform/redis/codes.ts';
import type { RoutingKeys } from '../platform/redis/keys.ts';
import { corked, registerScripts, type ScriptCall } from '../platform/redis/scripts.ts';
import type { Logger } from '../platform/logger.ts';
import type { CallState } from './call.ts';
import { type CallRecord, decodeRecord, encodeRecord } from './call-record.ts';

export interface CallStoreOptions {
  /** How long a record outlives its last write (a call longer than this loses its record). */
  ttlMs: number;
  /** How often this instance says it is alive. */
  beatMs: number;
  /** A heartbeat older than this: its instance is dead and its calls may be taken over. */
  deadAfterMs: number;
}

/** Heartbeats of instances gone this long are dropped from the set. */
const FORGET_INSTANCE_MS = 7 * 86_400_000;

/**
 * KEYS and ARGV of saveCall-2.lua for a call's state (pure): every field when `prev` (what the last
 * write sent) is absent, else only those that changed and the time of the write — a call is written
 * about three times and most of its fields never change.
 */
export function saveCallArgs(
  keys: RoutingKeys,
  token: string,
  ttlMs: number,
  fields: Record<string, string>,
  prev: Record<string, string> | undefined,
  nodeId: string,
  now: number,
): ScriptCall {
  const args: (string | number)[] = [token, ttlMs, now + ttlMs, fields.id!];
  for (const [k, v] of Object.entries(fields)) if (!prev || prev[k] !== v || k === 'up') args.push(k, v);
  return { keys: [keys.call(fields.id!), keys.callsOf(nodeId)], args };
}

export class CallStore {
  /** This process (a restart is a new owner: its calls before the restart are taken over). */
  readonly token: string;
  private timer: NodeJS.Timeout | null = null;
  private failing = false;

  constructor(
    private redis: Redis,
    private keys: RoutingKeys,
    instanceId: string,
    readonly opts: CallStoreOptions,
    private log: Logger,
  ) {
    registerScripts(redis);
    this.token = `${instanceId}/${randomUUID().slice(0, 8)}`;
  }

  /** Starts the heartbeat (the first one now: a takeover must not think a starting instance dead). */
  start(): void {
    void this.beat();
    this.timer ??= setInterval(() => void this.beat(), this.opts.beatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and says this instance is gone, so its calls left in Asterisk are taken over at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.redis.zrem(this.keys.instances, this.token).catch(() => {});
  }

  /** Says this instance is alive (also at once after Redis lost its data, before its calls' records go back). */
  async beat(now = Date.now()): Promise<void> {
    try {
      await this.redis
        .multi()
        .zadd(this.keys.instances, now, this.token)
        .zremrangebyscore(this.keys.instances, '-inf', now - FORGET_INSTANCE_MS)
        .exec();
      if (this.failing) this.log.info('call state heartbeat reaches Redis again');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.log.warn({ err: (err as Error).message }, 'call state heartbeat failed');
      this.failing = true;
    }
  }

  /**
   * Writes a call's record (and, if it has none yet, us as its owner): the fields that changed
   * since `prev`, all of them without it. Returns what the record holds now, the next write's `prev`.
   */
  async save(s: CallState, now: number, prev?: Record<string, string>): Promise<Record<string, string>> {
    const fields = encodeRecord(s, now);
    const call = saveCallArgs(this.keys, this.token, this.opts.ttlMs, fields, prev, s.nodeId, now);
    await corked(this.redis).saveCall(...call.keys, ...call.args);
    return fields;
  }

  /** True when this instance may write the call's CDR (it still owns the call). */
  async ending(callId: string): Promise<boolean> {
    return decodeDone('endCall', await corked(this.redis).endCall(this.keys.call(callId), this.token));
  }

  /** The CDR is written: the record goes. */
  async forget(callId: string, nodeId: string): Promise<void> {
    await corked(this.redis).forgetCall(this.keys.call(callId), this.keys.callsOf(nodeId), callId);
  }

  /** Makes the call ours if its owner is dead (or it is ours already). */
  async claim(callId: string, now = Date.now()): Promise<ClaimResult> {
    return decodeClaim(
      await this.redis.claimCall(
        this.keys.call(callId),
        this.keys.instances,
        this.token,
        now,
        this.opts.deadAfterMs,
      ),
    );
  }

  /** The records of a node's calls but those `skip` names (expired entries dropped; a record that is not one is skipped). */
  async ofNode(nodeId: string, skip: (callId: string) => boolean, now = Date.now()): Promise<CallRecord[]> {
    const index = this.keys.callsOf(nodeId);
    await this.redis.zremrangebyscore(index, '-inf', String(now));
    // Calls this instance holds are not read (at 6,000 live calls a pass would read them all).
    const ids = (await this.redis.zrange(index, '0', '-1')).filter((id) => !skip(id));
    if (!ids.length) return [];
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hgetall(this.keys.call(id));
    const res = (await pipe.exec()) ?? [];
    const out: CallRecord[] = [];
    const gone: string[] = [];
    res.forEach(([err, h], i) => {
      if (err) throw err;
      const hash = h as Record<string, string>;
      if (!Object.keys(hash).length) gone.push(ids[i]!);
      const r = decodeRecord(hash);
      if (r) out.push(r);
    });
    if (gone.length) await this.redis.zrem(index, ...gone);
    return out;
  }
}
