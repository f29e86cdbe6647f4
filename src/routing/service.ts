// The routing resources' operations, without HTTP: sellers, clients, campaigns, DIDs and links,
// each seen through a seller scope (a seller key sees only its seller's rows: another seller's row
// does not exist for it, so it is answered as not found), and the usage of each link's caps. Every
// change runs in a transaction that names its actor to the audit trail (platform/audit.ts).
// One class for routes, console and CLI, written in layers by resource: service/owners.ts (sellers,
// clients, buyer groups), service/campaigns.ts (campaigns, DIDs, links), and here the caller
// blocklists and the caps' usage.
import type { Readable } from 'node:stream';
import { AppError, notFound } from '../platform/http/errors.ts';
import { mapDbError } from '../platform/pg-errors.ts';
import { BlockCsvHeaderError, type BlockImportResult, importBlocklist } from './blocklist-import.ts';
import { capBuckets, concurrencyAt } from './decide.ts';
import * as repo from './repository.ts';
import type { CallerBlockRow, CappedOwners, NamedLink } from './repository.ts';
import { RoutingCampaigns } from './service/campaigns.ts';
import type { Page, Scope } from './service/owners.ts';
import type { SlotStore } from './slots.ts';

export class RoutingService extends RoutingCampaigns {
  // ---------------------------------------------------------------- caller blocklists

  /**
   * The list a request means: a seller key always its own seller's; staff name a seller, or
   * `global`/null (or nothing) for the global list.
   */
  private async blockList(wanted: string | null | undefined, scope: Scope): Promise<string | null> {
    const id = wanted === 'global' ? null : wanted;
    if (scope) {
      if (id && id !== scope) throw notFound('seller', id);
      if (wanted === null || wanted === 'global')
        throw new AppError('FORBIDDEN_ROLE', 'the global blocklist is managed by staff');
      return scope;
    }
    if (id && !(await repo.sellerExists(this.db, id))) throw notFound('seller', id);
    return id ?? null;
  }

  /** Blocklist entries: a seller key sees its own list only; staff every list, or one. */
  listCallerBlocks(f: Page & { sellerId?: string | undefined; number?: string | undefined }, scope: Scope) {
    const sellerId = scope ?? (f.sellerId === 'global' ? null : f.sellerId);
    return repo.listCallerBlocks(this.db, { ...f, sellerId });
  }

  async addCallerBlock(
    b: { number: string; seller_id?: string | null | undefined; note?: string | null | undefined },
    scope: Scope,
  ): Promise<CallerBlockRow> {
    const sellerId = await this.blockList(b.seller_id, scope);
    return repo
      .insertCallerBlock(this.db, { sellerId, number: b.number, note: b.note ?? null })
      .catch((e) => mapDbError(e, `blocklist entry ${b.number}`));
  }

  async removeCallerBlock(id: string, scope: Scope): Promise<void> {
    const r = await repo.callerBlock(this.db, id);
    if (!r || (scope && r.sellerId !== scope)) throw notFound('blocklist entry', id);
    await repo.deleteCallerBlock(this.db, id);
  }

  async importCallerBlocks(
    body: Readable,
    seller: string | undefined,
    scope: Scope,
  ): Promise<BlockImportResult> {
    const sellerId = await this.blockList(seller, scope);
    try {
      return await importBlocklist(this.db, sellerId, body);
    } catch (e) {
      if (e instanceof BlockCsvHeaderError) throw new AppError('VALIDATION_FAILED', e.message);
      throw e;
    }
  }

  /**
   * Per link, usage against each cap, from Redis (shared by every instance), counted in the
   * client's time zone (`defaultTimezone` when it has none).
   */
  async linkUsage(scope: Scope, slots: SlotStore, defaultTimezone: string, now = new Date()) {
    const rows = await repo.namedLinks(this.db, scope);
    return Promise.all(rows.map((r) => this.usageOf(r, slots, defaultTimezone, now)));
  }

  /** One link's usage against each of its caps (as `linkUsage` counts it). */
  async usageOf(
    { link, timezone }: Pick<NamedLink, 'link' | 'timezone'>,
    slots: SlotStore,
    defaultTimezone: string,
    now = new Date(),
  ) {
    const tz = timezone ?? defaultTimezone;
    const b = capBuckets(tz, now);
    const [live, c] = await Promise.all([slots.live(link.id), slots.counters(link.id, b)]);
    // The cap in force now: an hourly schedule's entry for this hour, else concurrency_cap.
    const liveCap = concurrencyAt(link.concurrencyCap, link.concurrencySchedule, tz, now);
    return {
      link_id: link.id,
      campaign_id: link.campaignId,
      client_id: link.clientId,
      live: { used: live, cap: liveCap },
      hourly: { used: c.hourly, cap: link.hourlyCap },
      daily: { used: c.daily, cap: link.dailyCap },
      monthly: { used: c.monthly, cap: link.monthlyCap },
      total: { used: Math.max(c.total, link.totalAnswered), cap: link.totalCap },
    };
  }

  /** The sellers, DIDs and buyer groups that carry caps (see `repository.cappedOwners`). */
  cappedOwners(scope: Scope): Promise<CappedOwners> {
    return repo.cappedOwners(this.db, scope);
  }
}
