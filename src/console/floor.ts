// What the live floor reads besides the instances' snapshots: each link's usage against its caps
// (Redis, where caps are decided, in the client's time zone, as /v1/calls/live counts it) and the
// names of clients and sellers, both through the routing service; the same for the sellers, DIDs and
// buyer groups that carry caps of their own. The lists are read at most every few seconds, the
// usage on every frame.
import type { CappedOwners, NamedLink } from '../routing/repository.ts';
import type { RoutingService } from '../routing/service.ts';
import type { SlotStore } from '../routing/slots.ts';
import { type OwnersUsage, ownersUsage } from '../routing/usage.ts';
import type { FloorReader, LinkUsage } from './live.ts';

const CATALOG_TTL_MS = 5000;

export class Floor implements FloorReader {
  private cached: { at: number; rows: Promise<NamedLink[]> } | null = null;
  private cachedOwners: { at: number; rows: Promise<CappedOwners> } | null = null;

  constructor(
    private routing: RoutingService,
    private slots: SlotStore,
    private defaultTimezone: string,
  ) {}

  private rows(now = Date.now()): Promise<NamedLink[]> {
    if (!this.cached || now - this.cached.at > CATALOG_TTL_MS) {
      const rows = this.routing.namedLinks(null);
      rows.catch(() => {
        if (this.cached?.rows === rows) this.cached = null;
      });
      this.cached = { at: now, rows };
    }
    return this.cached.rows;
  }

  private ownerRows(now = Date.now()): Promise<CappedOwners> {
    if (!this.cachedOwners || now - this.cachedOwners.at > CATALOG_TTL_MS) {
      const rows = this.routing.cappedOwners(null);
      rows.catch(() => {
        if (this.cachedOwners?.rows === rows) this.cachedOwners = null;
      });
      this.cachedOwners = { at: now, rows };
    }
    return this.cachedOwners.rows;
  }

  /** Forget the cached lists (after a change made through the console). */
  invalidate(): void {
    this.cached = null;
    this.cachedOwners = null;
  }

  async names() {
    const rows = await this.rows();
    return {
      clients: new Map(rows.map((r) => [r.link.clientId, r.client])),
      sellers: new Map(rows.map((r) => [r.sellerId, r.seller])),
    };
  }

  async links(scope: string | null): Promise<LinkUsage[]> {
    const rows = (await this.rows()).filter((r) => !scope || r.sellerId === scope);
    const now = new Date();
    return Promise.all(
      rows.map(async (r) => {
        const u = await this.routing.usageOf(r, this.slots, this.defaultTimezone, now);
        return {
          ...u,
          campaign: r.campaign,
          client: r.client,
          seller_id: r.sellerId,
          active: r.link.active,
          priority: r.link.priority,
          weight: r.link.weight,
        };
      }),
    );
  }

  /** A seller's scope gets its own seller and DIDs and no buyer group (see `cappedOwners`). */
  async owners(scope: string | null): Promise<OwnersUsage> {
    const all = await this.ownerRows();
    const o: CappedOwners = scope
      ? {
          sellers: all.sellers.filter((r) => r.row.id === scope),
          dids: all.dids.filter((r) => r.row.sellerId === scope),
          groups: [],
        }
      : all;
    return ownersUsage(o, this.slots, this.defaultTimezone);
  }
}
