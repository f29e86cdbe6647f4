// Reads what a call is routed by (DID -> campaign -> links and clients) with a short cache, so a
// burst of calls to one DID costs one PostgreSQL round trip, not one per call.
import { type Increment, parseIncrement } from '../cdr/money.ts';
import type { Db } from '../platform/db.ts';
import type { DefaultRoute, HourlyConcurrency, WeeklySchedule } from '../db/schema/routing.ts';
import { capTotalsOf, planRows } from './repository.ts';
import { hasCaps, type LinkCaps } from './slots.ts';

export interface RouteLink {
  active: boolean;
  linkId: string;
  clientId: string;
  endpoint: string;
  timezone: string | null;
  schedule: WeeklySchedule | null;
  priority: number;
  weight: number;
  caps: LinkCaps;
  /** Concurrency per hour of the week in the client's zone, overriding `caps.concurrency` where set. */
  concurrencySchedule?: HourlyConcurrency | null;
  totalAnswered: number;
  // Optional in the type so plans built by hand (tests) need not spell them; the catalog always sets them.
  /** The client's name when the plan was read (the CDR keeps it beside the id). */
  clientName?: string;
  /** Revenue recovery: a client hanging up within this many seconds of answering sends the caller on. */
  recoveryS?: number | null;
  /** What the hourly/daily/monthly/total caps count. */
  capsCount?: 'answered' | 'converted';
  money?: {
    convertAfterS: number | null;
    payoutMicros: number;
    revenueMicros: number;
    increment: Increment;
  };
  /** The client's buyer group, when it has caps: shared by every client of the group. */
  group?: RouteGroup;
}

export interface RouteGroup {
  id: string;
  caps: LinkCaps;
  totalAnswered: number;
  /** The zone its hour/day/month buckets are counted in (null: DEFAULT_TIMEZONE). */
  timezone: string | null;
}

/**
 * A cap owner beside the link that every call of the plan counts against: the DID's seller, the DID.
 * Only owners with at least one cap are in a plan (an owner without caps costs a call nothing).
 */
export interface RouteSource {
  kind: 'seller' | 'did';
  id: string;
  caps: LinkCaps;
  totalAnswered: number;
}

export interface RoutePlan {
  did: string;
  didId?: string;
  sellerId: string;
  /** The seller's and the DID's caps, when they have any (seller first). */
  sources?: RouteSource[];
  sellerName?: string;
  /** The carrier's per-minute rate on this number (micro-units). */
  didRatePerMinMicros?: number;
  /**
   * Why this number takes no call at all, whatever its campaign: its seller is archived or switched
   * off, or the DID is switched off. The call ends at once with this as its disposition (absent: it
   * routes).
   */
  off?: 'seller_archived' | 'seller_inactive' | 'did_inactive';
  campaign: null | {
    id: string;
    name?: string;
    active: boolean;
    strategy: 'priority' | 'round_robin' | 'weighted';
    ringTimeoutS: number;
    maxAttempts: number;
    dupWindowH: number | null;
    dupPolicy: 'same_client' | 'reject';
    // Caller filters (screen.ts, and the screen_caller effect); absent means off.
    rejectAnonymous?: boolean;
    repeatWindowS?: number | null;
    useBlocklist?: boolean;
    callerRegions?: string[] | null;
    /** Where a call goes when every link is capped, closed or off (absent: nowhere). */
    defaultRoute?: DefaultRoute | null;
    /** Revenue recovery: how many times a call may be sent on after a short answer (absent: 0). */
    maxReroutes?: number;
    /** Hold queue: how long a caller may wait for a concurrency slot (absent: no queue). */
    queueS?: number | null;
    /** Maximum call length in seconds from the client's answer (absent: none). */
    maxCallS?: number | null;
    /** Call recording: the bridge is recorded in Asterisk (absent: off). */
    recordCalls?: boolean;
  };
  links: RouteLink[];
}

export class RouteCatalog {
  private cache = new Map<string, { at: number; plan: RoutePlan | null }>();
  /** Reads in flight, one per DID. */
  private loading = new Map<string, Promise<RoutePlan | null>>();
  constructor(
    private db: Db,
    private ttlMs = 5000,
  ) {}

  /**
   * A DID's plan. A cached plan past its TTL is still answered at once while one background read
   * refreshes it: every few seconds each DID's refresh would otherwise hold the calls that arrive
   * during three PostgreSQL round trips (the p99 of routing decisions under load). A plan change
   * therefore reaches calls within the TTL plus one read. Only a DID never seen (or after
   * `invalidate`) waits for PostgreSQL.
   */
  async plan(did: string, now = Date.now()): Promise<RoutePlan | null> {
    const hit = this.cache.get(did);
    if (!hit) return this.refresh(did, now);
    // PostgreSQL unreachable: keep routing known DIDs from the last plan we had (stale beats
    // dropping calls); the next call past the TTL tries again.
    if (now - hit.at >= this.ttlMs)
      this.refresh(did, now).catch((err: unknown) => this.onRefreshError(did, err));
    return hit.plan;
  }

  /** One read per DID at a time: calls that find a DID's plan missing together share it. */
  private refresh(did: string, now: number): Promise<RoutePlan | null> {
    let p = this.loading.get(did);
    if (!p) {
      p = this.load(did)
        .then((plan) => {
          if (this.cache.size > 50_000) this.cache.clear();
          this.cache.set(did, { at: now, plan });
          this.onRefreshOk();
          return plan;
        })
        .finally(() => this.loading.delete(did));
      this.loading.set(did, p);
    }
    return p;
  }

  /**
   * Drops every cached plan: the next call to each DID reads PostgreSQL. Called when PostgreSQL says
   * a plan changed (LISTEN, see `listenForChanges`) and when that listening connection (re)connects,
   * since notifications sent while it was down are lost.
   */
  invalidate(): void {
    this.cache.clear();
    this.vias.clear();
    this.onInvalidate();
  }

  /** Told after the plans were dropped (the router gives its hold-queue waiters a turn). */
  onInvalidate: () => void = () => {};

  private vias = new Map<string, { at: number; plan: Promise<RoutePlan | null> }>();

  /**
   * The plan of a DID's call sent to another campaign (its default route): that campaign and its
   * links, the DID's seller and DID caps as ever. Cached like DIDs' plans (dropped on a plan change,
   * read again past the TTL).
   */
  planVia(did: string, campaignId: string, now = Date.now()): Promise<RoutePlan | null> {
    const key = `${did} ${campaignId}`;
    const hit = this.vias.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.plan;
    const plan = this.load(did, campaignId);
    if (this.vias.size > 10_000) this.vias.clear();
    this.vias.set(key, { at: now, plan });
    plan.catch(() => this.vias.delete(key));
    return plan;
  }

  /** Set by the module: a background refresh that failed (the stale plan keeps serving meanwhile). */
  onRefreshError: (did: string, err: unknown) => void = () => {};
  onRefreshOk: () => void = () => {};

  private async load(did: string, campaignId?: string): Promise<RoutePlan | null> {
    const r = await planRows(this.db, did, campaignId);
    if (!r) return null;
    const { did: d, seller, campaign: c, links: rows } = r;
    const groups = new Map(rows.flatMap(({ g }) => (g && hasCaps(capsOf(g)) ? [[g.id, g] as const] : [])));
    const owners = await this.withTotals([
      { kind: 'seller', id: seller.id, caps: capsOf(seller) },
      { kind: 'did', id: d.id, caps: capsOf(d) },
      ...[...groups.values()].map((g) => ({ kind: 'group' as const, id: g.id, caps: capsOf(g) })),
    ]);
    const sources = owners.filter((o): o is RouteSource => o.kind !== 'group');
    const total = (id: string) => owners.find((o) => o.kind === 'group' && o.id === id)?.totalAnswered ?? 0;
    const head = {
      did,
      didId: d.id,
      sellerId: d.sellerId,
      sources,
      sellerName: seller.name,
      didRatePerMinMicros: d.ratePerMinMicros,
      ...offOf(seller, d),
    };
    if (!c) return { ...head, campaign: null, links: [] };
    return {
      ...head,
      campaign: {
        id: c.id,
        name: c.name,
        active: c.active,
        strategy: c.strategy,
        ringTimeoutS: c.ringTimeoutS,
        maxAttempts: c.maxAttempts,
        dupWindowH: c.dupWindowH,
        dupPolicy: c.dupPolicy,
        rejectAnonymous: c.rejectAnonymous,
        repeatWindowS: c.repeatWindowS,
        useBlocklist: c.useBlocklist,
        callerRegions: c.callerRegions?.length ? c.callerRegions : null,
        defaultRoute: c.defaultRoute ?? null,
        maxReroutes: c.maxReroutes,
        queueS: c.queueS,
        maxCallS: c.maxCallS,
        recordCalls: c.recordCalls,
      },
      links: rows.map((r) => ({
        // Inactive links stay in the plan (never offered) so a CDR can say why they took no call.
        active: r.l.active && r.c.active,
        linkId: r.l.id,
        clientId: r.c.id,
        endpoint: r.c.endpoint,
        timezone: r.c.timezone,
        schedule: r.c.schedule ?? null,
        priority: r.l.priority,
        weight: r.l.weight,
        caps: capsOf(r.l),
        concurrencySchedule: r.l.concurrencySchedule ?? null,
        totalAnswered: r.l.totalAnswered,
        recoveryS: r.l.recoveryS,
        clientName: r.c.name,
        capsCount: r.l.capsCount,
        money: {
          convertAfterS: r.l.convertAfterS,
          payoutMicros: r.l.payoutMicros,
          revenueMicros: r.l.revenueMicros,
          // Validated on write; a row written around the API bills per second.
          increment: parseIncrement(r.l.billingIncrement) ?? { first: 1, next: 1 },
        },
        ...(r.g && groups.has(r.g.id)
          ? {
              group: {
                id: r.g.id,
                caps: capsOf(r.g),
                totalAnswered: total(r.g.id),
                timezone: r.g.timezone,
              },
            }
          : {}),
      })),
    };
  }

  /** The owners that have caps, with their persisted answered totals when a total cap needs them. */
  private async withTotals(
    owners: Array<{ kind: 'seller' | 'did' | 'group'; id: string; caps: LinkCaps }>,
  ): Promise<Array<{ kind: 'seller' | 'did' | 'group'; id: string; caps: LinkCaps; totalAnswered: number }>> {
    const capped = owners.filter((o) => hasCaps(o.caps));
    const totals = await capTotalsOf(
      this.db,
      capped.filter((o) => o.caps.total !== null),
    );
    return capped.map((o) => ({ ...o, totalAnswered: totals.get(`${o.kind}:${o.id}`) ?? 0 }));
  }
}

/** A row's five cap columns as caps. */
function capsOf(r: {
  concurrencyCap: number | null;
  hourlyCap: number | null;
  dailyCap: number | null;
  monthlyCap: number | null;
  totalCap: number | null;
}): LinkCaps {
  return {
    concurrency: r.concurrencyCap,
    hourly: r.hourlyCap,
    daily: r.dailyCap,
    monthly: r.monthlyCap,
    total: r.totalCap,
  };
}

/** How Asterisk's Dial/ARI addresses a client: a bare endpoint name means PJSIP/<name>. */
export function dialString(endpoint: string): string {
  return endpoint.includes('/') ? endpoint : `PJSIP/${endpoint}`;
}

/**
 * Why a number takes no call, most lasting first: a seller archived, a seller switched off (its
 * `active` flag, which would otherwise route on unnoticed), then the number itself switched off.
 */
function offOf(
  seller: { archivedAt: Date | null; active: boolean },
  did: { active: boolean },
): Pick<RoutePlan, 'off'> {
  if (seller.archivedAt) return { off: 'seller_archived' };
  if (!seller.active) return { off: 'seller_inactive' };
  return did.active ? {} : { off: 'did_inactive' };
}
