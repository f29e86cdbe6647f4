// Usage of the other cap owners a slot counts against (sellers, DIDs, buyer groups), read from Redis
// where the caps are decided, for /v1/calls/live and the console's live floor. Counted as the slot
// script counts it (decide.ts `capSources`): a seller's and a DID's hour, day and month buckets in
// the default zone, a group's in its own. Only owners that carry a cap are counted at all, so only
// they are listed.
import { capBuckets } from './decide.ts';
import type { SlotStore } from './slots.ts';

export interface Usage {
  used: number;
  cap: number | null;
}

export interface OwnerUsage {
  live: Usage;
  hourly: Usage;
  daily: Usage;
  monthly: Usage;
  total: Usage;
}

export interface SellerUsage extends OwnerUsage {
  seller_id: string;
  seller: string;
}

export interface DidUsage extends OwnerUsage {
  did_id: string;
  did: string;
  seller_id: string;
  seller: string;
  campaign_id: string | null;
}

export interface GroupUsage extends OwnerUsage {
  group_id: string;
  group: string;
  /** The zone its hour, day and month are counted in. */
  timezone: string;
}

export interface OwnersUsage {
  sellers: SellerUsage[];
  dids: DidUsage[];
  groups: GroupUsage[];
}

type CapRow = {
  id: string;
  concurrencyCap: number | null;
  hourlyCap: number | null;
  dailyCap: number | null;
  monthlyCap: number | null;
  totalCap: number | null;
};

/** The owners to read, as `repository.cappedOwners` lists them (`persisted`: PostgreSQL's total). */
export interface OwnerRows {
  sellers: Array<{ row: CapRow & { name: string }; persisted: number | null }>;
  dids: Array<{
    row: CapRow & { number: string; sellerId: string; campaignId: string | null };
    seller: string;
    persisted: number | null;
  }>;
  groups: Array<{ row: CapRow & { name: string; timezone: string | null }; persisted: number | null }>;
}

/** Every listed owner's usage against each of its caps. */
export async function ownersUsage(
  o: OwnerRows,
  slots: SlotStore,
  defaultTimezone: string,
  now = new Date(),
): Promise<OwnersUsage> {
  const b = capBuckets(defaultTimezone, now);
  const [sellers, dids, groups] = await Promise.all([
    Promise.all(
      o.sellers.map(async ({ row, persisted }) => ({
        seller_id: row.id,
        seller: row.name,
        ...(await counts(slots, 'seller', row, persisted, b, now)),
      })),
    ),
    Promise.all(
      o.dids.map(async ({ row, seller, persisted }) => ({
        did_id: row.id,
        did: row.number,
        seller_id: row.sellerId,
        seller,
        campaign_id: row.campaignId,
        ...(await counts(slots, 'did', row, persisted, b, now)),
      })),
    ),
    Promise.all(
      o.groups.map(async ({ row, persisted }) => {
        const tz = row.timezone ?? defaultTimezone;
        return {
          group_id: row.id,
          group: row.name,
          timezone: tz,
          ...(await counts(slots, 'group', row, persisted, capBuckets(tz, now), now)),
        };
      }),
    ),
  ]);
  return { sellers, dids, groups };
}

/** One owner's usage; its total is Redis' count or PostgreSQL's persisted one, the larger (as seeded). */
async function counts(
  slots: SlotStore,
  kind: 'seller' | 'did' | 'group',
  r: CapRow,
  persisted: number | null,
  b: ReturnType<typeof capBuckets>,
  now: Date,
): Promise<OwnerUsage> {
  const [live, c] = await Promise.all([
    slots.liveOf(kind, r.id, now.getTime()),
    slots.countersOf(kind, r.id, b),
  ]);
  return {
    live: { used: live, cap: r.concurrencyCap },
    hourly: { used: c.hourly, cap: r.hourlyCap },
    daily: { used: c.daily, cap: r.dailyCap },
    monthly: { used: c.monthly, cap: r.monthlyCap },
    total: { used: Math.max(c.total, persisted ?? 0), cap: r.totalCap },
  };
}
