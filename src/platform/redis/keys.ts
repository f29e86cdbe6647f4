// Every Redis key name of the daemon is built here, one convention: `<prefix>:<domain>:{<tag>}:<part>...`
// (parts joined by ':'). The {hash tag} decides the Redis Cluster slot: keys with the same tag live
// in one slot, and only those may be touched by one script. A domain whose scripts must be atomic
// across many of its keys gives *all* of its keys one tag, so Cluster spreads domains over nodes,
// not keys: ample for this load (routing at 1,000 calls/s is a few thousand script calls a second).
//   caller ID  {cid}      a number may serve several pools: its reservation and limits hold across
//                         all of them inside one pick, so pools, numbers, the dirty set, rate
//                         counters and the rebuild lock share the tag.
//   routing    {routing}  a call's slot is checked against the caps of its link (and, as they
//                         come, of its seller, DID and group) in one script.
//   pbx        no tag     one lock key, touched by single-key scripts only.
//   prov       no tag     one rate key per carrier account, touched by a single-key script.
// Scripts receive every key whose name is known before the call in KEYS, named here. Keys named by
// data only the script sees (the number at the head of a set, the pools a number's hash holds when
// the script runs) cannot be: a read before the call would race the other writers. For those the
// script gets their family's prefix in KEYS (built here) and appends the data, with the same
// spelling as below (src/callerid/lua/cid-common.lua; a test checks that both agree); each script's
// header says which keys these are and why.

export class RedisKeys {
  readonly cid: CidKeys;
  readonly routing: RoutingKeys;
  constructor(readonly prefix: string) {
    this.cid = new CidKeys(this.tagged('cid', 'cid'));
    this.routing = new RoutingKeys(this.tagged('routing', 'routing'));
  }

  /** A key of a domain under a hash tag. */
  tagged(domain: string, tag: string, ...parts: (string | number)[]): string {
    return [this.prefix, domain, `{${tag}}`, ...parts].join(':');
  }

  /** A key outside any hash tag (touched alone, never with others in a script). */
  plain(domain: string, ...parts: (string | number)[]): string {
    return [this.prefix, domain, ...parts].join(':');
  }

  /** An alert already sent for this subject in this period (routing webhooks' throttle; one key a call). */
  alertSent(event: string, ...subject: (string | number)[]): string {
    return this.plain('alert', event, ...subject);
  }

  /** A carrier account's next request time (DID provisioning's shared rate limiter; one key a script). */
  provisioningRate(accountId: string): string {
    return this.plain('prov', 'rate', accountId);
  }

  /** An API key's request counter in one rate window (shared by every instance; one key a command). */
  apiKeyRate(keyId: string, window: number): string {
    return this.plain('api', 'rate', keyId, window);
  }

  /** The lock of the call-record retention purge (one instance at a time). */
  get cdrRetentionLock(): string {
    return this.plain('cdr', 'retention-lock');
  }

  /** The PBX apply lock (one per deployment). */
  get pbxApplyLock(): string {
    return this.plain('pbx', 'apply-lock');
  }
}

/**
 * Caller-ID keys, all under `<prefix>:cid:{cid}`. Built by concatenation from prefixes made once: a
 * pick names twelve keys, thousands of times a second.
 *   n:<number>                 HASH  the number's profile and usage (cid-common.lua lists the fields)
 *   p:<pool>:cfg               HASH  the pool's fallback and health settings
 *   p:<pool>:all|nxx:<v>|npa:<v>|st:<v>  ZSET  tier sets (number -> end of its reservation)
 *   p:<pool>:cool              ZSET  numbers held back by a limit or a rest (number -> usable at)
 *   p:<pool>:ready             STRING  set while the state is rebuilt, once the pool's numbers are placed (picks go on)
 *   ready  dirty  rebuild-lock  rl:<agent>:<minute>  seen:<call id>
 */
export class CidKeys {
  readonly ready: string;
  readonly dirty: string;
  /** Numbers a flush took off `dirty` and has not yet confirmed written (number -> lease end, ms). */
  readonly dirtyLeased: string;
  readonly rebuildLock: string;
  /** Prefix of the number hashes: `numberPrefix + number` (what the scripts receive). */
  readonly numberPrefix: string;
  /** Prefix of the pool keys: `poolPrefix + pool + ':' + part` (what the scripts receive). */
  readonly poolPrefix: string;
  constructor(readonly base: string) {
    this.ready = `${base}:ready`;
    this.dirty = `${base}:dirty`;
    this.dirtyLeased = `${base}:dirty:leased`;
    this.rebuildLock = `${base}:rebuild-lock`;
    this.numberPrefix = `${base}:n:`;
    this.poolPrefix = `${base}:p:`;
  }
  number(n: string) {
    return this.numberPrefix + n;
  }
  pool(pool: string, ...parts: string[]) {
    let key = this.poolPrefix + pool;
    for (const part of parts) key += `:${part}`;
    return key;
  }
  rate(agent: string, window: number) {
    return `${this.base}:rl:${agent}:${window}`;
  }
  callSeen(id: string) {
    return `${this.base}:seen:${id}`;
  }
}

/**
 * Routing keys, all under `<prefix>:routing:{routing}`.
 *   link:<id>:live                ZSET  live slots (slot id -> expiry ms)
 *   link:<id>:h:<hour>|d:<day>|m:<month>|total   counters of answered calls (reserved at take)
 *   seller:<id>:... did:<id>:... group:<id>:...  the same live set and counters for the other cap
 *                                 owners a call counts against (its seller, DID, buyer group)
 *   link:<id>:waiting             ZSET  the link's hold queue: calls waiting for it, by the time they
 *                                 joined (only the first not held back may take a slot, takeSlot-n.lua)
 *   link:<id>:held                HASH  what holds a waiter of the link back: a cap of its own that
 *                                 refused it (call id -> `<cap kind>|<cap>|<round>|<key>`)
 *   seller|did|group:<id>:waiting ZSET  the owner's line: calls its concurrency cap refused, by the
 *                                 time they joined the hold queue, whichever link (takeSlot-n.lua)
 *   seller|did|group:<id>:until   ZSET  when each entry of that line goes stale (call id -> ms)
 *   seller|did|group:<id>:held    HASH  what else holds a waiter of that line back (as link held)
 *   link:<id>:slot:<slot id>      HASH  the slot's state (taken, answered, released), buckets and
 *                                 the other owners it was counted against
 *   links                         SET   links with slots (what reconcile walks)
 *   totals:pending                HASH  answered uses not yet in PostgreSQL (`<kind>:<id>` -> n)
 *   totals:batch:<id>             HASH  one batch of them on its way to PostgreSQL
 *   totals:batches                SET   ids of the batches not yet known applied
 *   campaign:<id>:dup:<caller>    the client that last answered a caller (duplicate-caller memory)
 *   campaign:<id>:rr              the campaign's round-robin counter
 *   campaign:<id>:seen:<caller>   a caller's last arrival, for the repeat-caller window (expires with it)
 *   call:<call id>                HASH  a live call's state (call-record.ts), until its CDR is written
 *   node:<node id>:calls          ZSET  the live calls of an Asterisk node (call id -> expiry ms)
 *   queue-turns                   the hold queues' round of turns: raised by a plan change and a new
 *                                 hour (every waiter everywhere gets a turn); older marks do not hold
 *   queue-hour:<ms>               the claim of the one wake-up of a new hour on the routing clock
 *   epoch                         a random id set when the routing keys start: gone means Redis lost
 *                                 its data (FLUSHALL, a restart without persistence), slots.ts
 *   instances                     ZSET  each running instance's last heartbeat (token -> ms): a call's
 *                                 owner is dead once its heartbeat is old
 */
export class RoutingKeys {
  readonly links: string;
  readonly totalsPending: string;
  readonly totalsBatches: string;
  readonly instances: string;
  readonly epoch: string;
  /** The pub/sub channel that wakes hold-queue waiters (a slot freed, the head of a queue left). */
  readonly queueWake: string;
  /** The hold queues' round of turns (a counter; takeSlot-n.lua finds it beside `epoch`). */
  readonly queueTurns: string;
  constructor(readonly base: string) {
    this.links = `${base}:links`;
    this.queueWake = `${base}:queue-wake`;
    this.epoch = `${base}:epoch`;
    this.queueTurns = `${base}:queue-turns`;
    this.instances = `${base}:instances`;
    this.totalsPending = `${base}:totals:pending`;
    this.totalsBatches = `${base}:totals:batches`;
  }
  call(callId: string) {
    return `${this.base}:call:${callId}`;
  }
  /** The claim of the hold queues' wake-up at the hour starting at `at` (ms on the routing clock). */
  queueHour(at: number) {
    return `${this.base}:queue-hour:${at}`;
  }
  callsOf(nodeId: string) {
    return `${this.base}:node:${nodeId}:calls`;
  }
  totalsBatch(id: string) {
    return `${this.base}:totals:batch:${id}`;
  }
  link(linkId: string, ...parts: string[]) {
    return this.owner('link', linkId, ...parts);
  }
  /** A key of a cap owner: `link`, `seller`, `did` or `group` and its id. */
  owner(kind: string, id: string, ...parts: string[]) {
    let key = `${this.base}:${kind}:${id}`;
    for (const part of parts) key += `:${part}`;
    return key;
  }
  campaign(campaignId: string, ...parts: string[]) {
    let key = `${this.base}:campaign:${campaignId}`;
    for (const part of parts) key += `:${part}`;
    return key;
  }
}
