// What the live floor reads besides the instances' snapshots: each link's usage against its caps
// (Redis, where caps are decided, in the client's time zone, as /v1/calls/live counts it) and the
// names of clients and sellers. The link list is read from PostgreSQL at most every few seconds.
import { eq } from 'drizzle-orm';
import type { Db } from '../platform/db.ts';
import { campaigns, clients, links, sellers } from '../db/schema/routing.ts';
import { capBuckets } from '../routing/decide.ts';
import type { SlotStore } from '../routing/slots.ts';
import type { FloorReader, LinkUsage } from './live.ts';

const CATALOG_TTL_MS = 5000;

type LinkRow = Awaited<ReturnType<Floor['readLinks']>>[number];

export class Floor implements FloorReader {
  private cached: { at: number; rows: Promise<LinkRow[]> } | null = null;

  constructor(
    private db: Db,
    private slots: SlotStore,
    private defaultTimezone: string,
  ) {}

  private readLinks() {
    return this.db
      .select({
        id: links.id,
        campaignId: links.campaignId,
        campaign: campaigns.name,
        clientId: links.clientId,
        client: clients.name,
        sellerId: campaigns.sellerId,
        seller: sellers.name,
        timezone: clients.timezone,
        active: links.active,
        priority: links.priority,
        weight: links.weight,
        caps: {
          live: links.concurrencyCap,
          hourly: links.hourlyCap,
          daily: links.dailyCap,
          monthly: links.monthlyCap,
          total: links.totalCap,
        },
        totalAnswered: links.totalAnswered,
      })
      .from(links)
      .innerJoin(campaigns, eq(campaigns.id, links.campaignId))
      .innerJoin(clients, eq(clients.id, links.clientId))
      .innerJoin(sellers, eq(sellers.id, campaigns.sellerId))
      .orderBy(campaigns.name, links.priority, clients.name);
  }

  private rows(now = Date.now()): Promise<LinkRow[]> {
    if (!this.cached || now - this.cached.at > CATALOG_TTL_MS) {
      const rows = this.readLinks();
      rows.catch(() => {
        if (this.cached?.rows === rows) this.cached = null;
      });
      this.cached = { at: now, rows };
    }
    return this.cached.rows;
  }

  /** Forget the cached link list (after a change made through the console). */
  invalidate(): void {
    this.cached = null;
  }

  async names() {
    const rows = await this.rows();
    return {
      clients: new Map(rows.map((r) => [r.clientId, r.client])),
      sellers: new Map(rows.map((r) => [r.sellerId, r.seller])),
    };
  }

  async links(scope: string | null): Promise<LinkUsage[]> {
    const rows = (await this.rows()).filter((r) => !scope || r.sellerId === scope);
    const now = new Date();
    return Promise.all(
      rows.map(async (r) => {
        const b = capBuckets(r.timezone ?? this.defaultTimezone, now);
        const [live, c] = await Promise.all([this.slots.live(r.id), this.slots.counters(r.id, b)]);
        return {
          link_id: r.id,
          campaign_id: r.campaignId,
          campaign: r.campaign,
          client_id: r.clientId,
          client: r.client,
          seller_id: r.sellerId,
          active: r.active,
          priority: r.priority,
          weight: r.weight,
          live: { used: live, cap: r.caps.live },
          hourly: { used: c.hourly, cap: r.caps.hourly },
          daily: { used: c.daily, cap: r.caps.daily },
          monthly: { used: c.monthly, cap: r.caps.monthly },
          total: { used: Math.max(c.total, r.totalAnswered), cap: r.caps.total },
        };
      }),
    );
  }
}
