// Routing's alerts as webhooks, through the event outbox (platform/outbox.ts) like every event:
// `cap.reached` (a link's, seller's, DID's or group's cap refused a call), `route.failed` (a call that
// reached no client, and why) and `node.down` (the link to an Asterisk node was lost). Each is
// throttled across every instance by a Redis key set only if absent (SET NX EX): a cap once per
// period it counts (hour, day, month; a concurrency cap once per ALERT_THROTTLE_S; a total cap once),
// a failure reason once per seller per ALERT_THROTTLE_S, a node once per ALERT_THROTTLE_S. The calls
// never wait for any of it: a finished call hands its state over and moves on; a failure to alert is
// logged and counted, never the call's.
import type { Redis } from 'ioredis';
import { Counter, type Registry } from 'prom-client';
import type { AsteriskNode } from '../asterisk/index.ts';
import type { Db } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import { writeEvent } from '../platform/outbox.ts';
import type { RedisKeys } from '../platform/redis/keys.ts';
import type { CallState, Disposition } from './call.ts';
import { capBuckets } from './decide.ts';

/**
 * Which dispositions are calls that reached no client for a reason of routing's, each said once (a
 * Record, so a new disposition fails the type check until it is classed). A caller who hung up, a
 * call sent on by its default route, or one that ended while no instance ran is not a failure to route.
 */
export const ROUTE_FAILED: Readonly<Record<Disposition, boolean>> = {
  answered: false,
  unknown_did: true,
  inactive_campaign: true,
  seller_archived: true,
  seller_inactive: true,
  did_inactive: true,
  no_client: true,
  all_failed: true,
  caller_abandoned: false,
  duplicate_rejected: true,
  anonymous_rejected: true,
  region_rejected: true,
  blocked_rejected: true,
  repeat_rejected: true,
  default_route: false,
  // It waited on hold for a slot that never came: every link was capped.
  queue_timeout: true,
  shed: true,
  ended_unattended: false,
  ended_unseen: false,
  // Taken over after a crash past its ring budget: no client was found in time.
  unattended_timeout: true,
  error: true,
};

const CAP_KINDS = ['concurrency', 'hourly', 'daily', 'monthly', 'total'] as const;
type CapKind = (typeof CAP_KINDS)[number];

export interface CapHit {
  owner: 'link' | 'seller' | 'did' | 'group';
  ownerId: string;
  cap: CapKind;
}

/**
 * Pure: the caps a finished call was refused by, one per owner and cap (a seller's cap refuses every
 * link after the first: it is one hit). A refusal's reason is the link's own cap kind, or
 * `<owner>_<kind>` for a cap of the call's seller, DID or a group.
 */
export function capHits(s: Pick<CallState, 'refused' | 'plan'>): CapHit[] {
  const out = new Map<string, CapHit>();
  for (const r of s.refused) {
    const [a, b] = r.reason.split('_') as [string, string | undefined];
    let hit: CapHit | null = null;
    if (!b && (CAP_KINDS as readonly string[]).includes(a))
      hit = { owner: 'link', ownerId: r.linkId, cap: a as CapKind };
    else if (b && (CAP_KINDS as readonly string[]).includes(b) && ['seller', 'did', 'group'].includes(a)) {
      const owner = a as 'seller' | 'did' | 'group';
      const src = (s.plan?.sources ?? []) as Array<{ kind: string; id: string }>;
      // A group is the refused link's client's (a plan's groups are on its links, not its sources).
      const id =
        owner === 'group'
          ? s.plan?.links.find((l) => l.linkId === r.linkId)?.group?.id
          : (src.find((x) => x.kind === owner)?.id ?? (owner === 'seller' ? s.plan?.sellerId : undefined));
      hit = { owner, ownerId: id ?? r.linkId, cap: b as CapKind };
    }
    if (hit) out.set(`${hit.owner}:${hit.ownerId}:${hit.cap}`, hit);
  }
  return [...out.values()];
}

/**
 * Pure: the zone a hit cap counts its hours, days and months in — the link's client's, the group's
 * own; null for the seller's and the DID's (DEFAULT_TIMEZONE), as the slots count them.
 */
export function capZone(s: Pick<CallState, 'plan'>, h: CapHit): string | null {
  const links = s.plan?.links ?? [];
  if (h.owner === 'link') return links.find((l) => l.linkId === h.ownerId)?.timezone ?? null;
  if (h.owner === 'group') return links.find((l) => l.group?.id === h.ownerId)?.group?.timezone ?? null;
  return null;
}

/** Pure: the throttle period of a cap alert, and how long its key must live. */
export function capPeriod(
  cap: CapKind,
  tz: string,
  at: Date,
  throttleS: number,
): { period: string; ttlS: number } {
  const b = capBuckets(tz, at);
  switch (cap) {
    case 'hourly':
      return { period: b.hour, ttlS: 2 * 3600 };
    case 'daily':
      return { period: b.day, ttlS: 2 * 86_400 };
    case 'monthly':
      return { period: b.month, ttlS: 32 * 86_400 };
    case 'total':
      return { period: 'ever', ttlS: 90 * 86_400 };
    default:
      return { period: String(Math.floor(at.getTime() / 1000 / throttleS)), ttlS: throttleS };
  }
}

export class RoutingAlerts {
  private failures: Counter<'event'>;
  private stopped = false;
  private sent: Counter<'event'>;
  private throttled: Counter<'event'>;

  constructor(
    private db: Db,
    private redis: Redis,
    private keys: RedisKeys,
    private s: { throttleS: number; defaultTimezone: string; instanceId: string },
    private log: Logger,
    metrics: Registry,
  ) {
    this.sent = new Counter({
      name: 'capconduit_alerts_sent_total',
      help: 'Routing alerts written to the webhook outbox, by event (after throttling)',
      labelNames: ['event'],
      registers: [metrics],
    });
    this.throttled = new Counter({
      name: 'capconduit_alerts_throttled_total',
      help: 'Routing alerts not written because one for the same subject was written in its period, by event',
      labelNames: ['event'],
      registers: [metrics],
    });
    this.failures = new Counter({
      name: 'capconduit_alert_failures_total',
      help: 'Routing alerts that could not be written (Redis or PostgreSQL unavailable), by event',
      labelNames: ['event'],
      registers: [metrics],
    });
  }

  /** A finished call: its cap refusals and, when it reached no client, its reason. Never throws. */
  callFinished(s: CallState, now = new Date()): void {
    void this.onCall(s, now);
  }

  private async onCall(s: CallState, now: Date): Promise<void> {
    for (const h of capHits(s)) {
      const tz = capZone(s, h) ?? this.s.defaultTimezone;
      const p = capPeriod(h.cap, tz, now, this.s.throttleS);
      await this.once(
        'cap.reached',
        [h.owner, h.ownerId, h.cap, p.period],
        p.ttlS,
        s.plan?.sellerId ?? null,
        {
          owner: h.owner,
          owner_id: h.ownerId,
          cap: h.cap,
          period: p.period,
          call_id: s.callId,
          did: s.did ?? null,
          campaign_id: s.plan?.campaign?.id ?? null,
          seller_id: s.plan?.sellerId ?? null,
        },
      );
    }
    const reason = s.disposition;
    if (reason && ROUTE_FAILED[reason]) {
      const seller = s.plan?.sellerId ?? null;
      await this.once('route.failed', [seller ?? 'none', reason], this.s.throttleS, seller, {
        reason,
        call_id: s.callId,
        did: s.did ?? null,
        caller_number: s.callerNumber ?? null,
        campaign_id: s.plan?.campaign?.id ?? null,
        seller_id: seller,
        not_routed: s.refused.map((r) => ({ link_id: r.linkId, client_id: r.clientId, reason: r.reason })),
        node_id: s.nodeId,
        throttle_s: this.s.throttleS,
      });
    }
  }

  /** Watches each node's ARI link: a connected link that drops is a `node.down`. */
  watchNodes(nodes: Iterable<AsteriskNode>): void {
    for (const n of nodes) {
      n.ari.on('disconnected', () => {
        void this.once('node.down', [n.id], this.s.throttleS, null, {
          node_id: n.id,
          link: 'ari',
          seen_by: this.s.instanceId,
          at: new Date().toISOString(),
        });
      });
    }
  }

  /** No more alerts: the daemon is stopping (its own links going down are not a node lost). */
  stop(): void {
    this.stopped = true;
  }

  /** Writes the event unless one for the same subject was written within its period (any instance). */
  private async once(
    event: 'cap.reached' | 'route.failed' | 'node.down',
    subject: string[],
    ttlS: number,
    sellerId: string | null,
    data: Record<string, unknown>,
  ): Promise<void> {
    if (this.stopped) return;
    try {
      const first = await this.redis.set(this.keys.alertSent(event, ...subject), '1', 'EX', ttlS, 'NX');
      if (first !== 'OK') {
        this.throttled.inc({ event });
        return;
      }
      await writeEvent(this.db, { type: event, sellerId, data });
      this.sent.inc({ event });
    } catch (err) {
      this.failures.inc({ event });
      this.log.warn({ event, err: (err as Error).message }, 'routing alert not written');
    }
  }
}
