// Calls nobody saw: a caller entered our Stasis app and hung up while no instance of the daemon ran
// (all killed or restarting, or every link to the node cut), and its StasisStart reached no living
// process. No channel, no record in Redis and no slot is left for a takeover to find — only the
// CDR Asterisk itself wrote for the channel (cdr_pgsql, asterisk/cdr.conf). After each reconcile pass
// of a node, the records that ended since the last pass and name no call of ours are read back and
// each becomes the call's CDR: disposition `ended_unseen`, no client, no attempt, no slot or cap use.
//
// Never twice: the CDR's call id is derived from the node and the caller's channel id, so a second
// pass, another instance or a restart inserts the same key again (ON CONFLICT DO NOTHING). A call we
// did record names its caller's channel (`call_records.caller_channel_id`) and is skipped; one still
// in progress here or recorded in Redis (its owner dead, a takeover due) is skipped too, and records
// are judged only once they ended `graceMs` ago, by when any instance's CDR of the call is in
// PostgreSQL (the writer flushes every half second). A caller may have several records (one per
// client it was bridged with): its call is judged on all of them, once the last has ended.
import { createHash } from 'node:crypto';
import type { AsteriskStasisCdr } from '../cdr/repository.ts';
import { cdrsOfChannels, markUnseenSwept, unrecordedStasisCdrs, unseenSweptTo } from '../cdr/repository.ts';
import type { CallOutcome } from '../cdr/record.ts';
import { cdrOf } from '../cdr/record.ts';
import type { CdrWriter } from '../cdr/writer.ts';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { RouteCatalog, RoutePlan } from './catalog.ts';
import type { RoutingMetrics } from './metrics.ts';
import { normalizeDid } from './stasis.ts';

/** Records read per query; a pass reads on until it has caught up. */
const PAGE = 2_000;
/** Each pass starts this far before the last one ended (records are read again, written once). */
const OVERLAP_MS = 60_000;

/** The call id of an unseen call: a UUID derived from the node and the caller's channel id. */
export function unseenCallId(nodeId: string, channelId: string): string {
  const h = createHash('md5').update(`unseen:${nodeId}:${channelId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Whether an Asterisk record is of a caller in our app, and the Stasis arguments it entered with:
 * `Stasis(<app>,inbound[,<did>])` for one of our apps, or `StasisBroadcast(<ms>,<filter>,inbound...)`
 * (an offer: whichever instance claimed it, a call of ours). Outbound calls and other apps are not.
 */
export function inboundArgs(
  r: Pick<AsteriskStasisCdr, 'lastapp' | 'lastdata'>,
  apps: readonly string[],
): string[] | null {
  const data = (r.lastdata ?? '').split(',');
  if (r.lastapp === 'Stasis') {
    const [app, ...args] = data;
    return app && apps.includes(app) && args[0] === 'inbound' ? args : null;
  }
  if (r.lastapp === 'StasisBroadcast') {
    const args = (data[2] ?? '').split(':');
    return args[0] === 'inbound' ? args : null;
  }
  return null;
}

/**
 * One channel's records merged into the one its call is judged by (pure), or null when none is of a
 * caller in our app. Asterisk ends a caller's record when its party B leaves the bridge and starts
 * another for its next party B (main/cdr.c), so a caller sent on to a second client after the first
 * hung up has a record per client, each covering only its part: the call runs from the first start
 * to the last end, answered at the first answer. An unanswered dial writes no record of the caller
 * (channels/dial publishes no caller), so attempts that failed add none.
 */
export function channelRecord(
  rows: readonly AsteriskStasisCdr[],
  apps: readonly string[],
): AsteriskStasisCdr | null {
  const ours = rows.filter((r) => inboundArgs(r, apps));
  if (ours.length === 0) return null;
  const last = ours.reduce((a, b) => (b.end > a.end ? b : a));
  const answers = rows.map((r) => r.answer).filter((a): a is number => a !== null && a > 0);
  const answer = answers.length ? Math.min(...answers) : null;
  return {
    ...last,
    start: Math.min(...rows.map((r) => r.start)),
    answer,
    end: Math.max(...rows.map((r) => r.end)),
    disposition: answer === null ? last.disposition : 'ANSWERED',
  };
}

/** The CDR of an unseen call (pure): times from Asterisk's record, the DID's seller and campaign now. */
export function unseenOutcome(
  nodeId: string,
  r: AsteriskStasisCdr,
  did: string,
  plan: RoutePlan | null,
): CallOutcome {
  return {
    callId: unseenCallId(nodeId, r.uniqueid),
    nodeId,
    callerChannelId: r.uniqueid,
    sellerId: plan?.sellerId ?? null,
    campaignId: plan?.campaign?.id ?? null,
    sellerName: plan?.sellerName ?? null,
    campaignName: plan?.campaign?.name ?? null,
    didId: plan?.didId ?? null,
    didRatePerMinMicros: plan?.didRatePerMinMicros ?? null,
    did,
    callerNumber: r.src ?? '',
    startedAt: r.start,
    // Asterisk answered the caller (what the carrier bills from), though no client ever did.
    ...(r.answer ? { answeredAt: r.answer } : {}),
    endedAt: Math.max(r.end, r.start),
    disposition: 'ended_unseen',
    attempts: [],
    notRouted: [],
  };
}

export interface UnseenDeps {
  db: Db;
  cdr: CdrWriter;
  catalog: RouteCatalog;
  /** Our Stasis app names. */
  apps: readonly string[];
  /** Node id -> the table its cdr_pgsql writes (nodes without one are not read). */
  tables: ReadonlyMap<string, string>;
  /** How long after its end a record is judged (ms). */
  graceMs: number;
  metrics: RoutingMetrics;
  log: Logger;
  now: () => number;
}

export class UnseenCalls {
  constructor(private d: UnseenDeps) {}

  /**
   * One pass over a node's records that ended since the last pass and `graceMs` ago or more;
   * `known(channelId)` says whether a caller's channel belongs to a call in progress or recorded in
   * Redis. Answers how many CDRs it wrote. Throws when PostgreSQL cannot be read (the next pass
   * tries again from the same mark).
   */
  async sweep(nodeId: string, known: (channelId: string) => boolean): Promise<number> {
    const table = this.d.tables.get(nodeId);
    if (!table) return 0;
    // Our own CDRs waiting in the journal (PostgreSQL refusing them) are not in call_records yet.
    if (this.d.cdr.lastError) return 0;
    const to = new Date(this.d.now() - this.d.graceMs);
    const mark = await unseenSweptTo(this.d.db, nodeId);
    // The first pass ever on a node only sets the mark: records from before are not ours to judge.
    if (!mark) {
      await markUnseenSwept(this.d.db, nodeId, to);
      return 0;
    }
    let from = new Date(Math.min(mark.getTime() - OVERLAP_MS, to.getTime()));
    let written = 0;
    const judged = new Set<string>();
    for (;;) {
      const rows = await unrecordedStasisCdrs(this.d.db, table, this.d.apps, from, to, PAGE);
      // A channel is judged on all its records, once the last of them is `graceMs` old (they are
      // written together when it ends, so the last one's end is the caller's hangup).
      const channels = [...new Set(rows.map((r) => r.uniqueid))].filter((u) => !judged.has(u) && !known(u));
      const records = new Map<string, AsteriskStasisCdr[]>();
      for (const x of await cdrsOfChannels(this.d.db, table, channels))
        records.set(x.uniqueid, [...(records.get(x.uniqueid) ?? []), x]);
      for (const u of channels) {
        judged.add(u);
        const r = channelRecord(records.get(u) ?? [], this.d.apps);
        if (!r || r.end >= to.getTime()) continue;
        const args = inboundArgs(r, this.d.apps)!;
        const did = normalizeDid(args[1] ?? r.dst ?? '');
        const plan = did ? await this.d.catalog.plan(did).catch(() => null) : null;
        const outcome = unseenOutcome(nodeId, r, did, plan);
        await this.d.cdr.write(cdrOf(outcome, this.d.now()));
        written++;
        this.d.metrics.unseen.inc();
        this.d.log.warn(
          { nodeId, callId: outcome.callId, channel: r.uniqueid, did, caller: r.src },
          "recorded a call whose caller hung up in our app while no instance ran (from Asterisk's CDR)",
        );
      }
      // A full page: go on from its last end (records ending in that same second are read again; a
      // page of records that all ended in one second cannot move on, and the pass ends there).
      const last = rows.at(-1)?.end ?? 0;
      if (rows.length < PAGE || last <= from.getTime()) break;
      from = new Date(last);
    }
    await markUnseenSwept(this.d.db, nodeId, to);
    return written;
  }
}
