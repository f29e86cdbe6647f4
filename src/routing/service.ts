// The routing resources' operations, without HTTP: sellers, clients, campaigns, DIDs and links,
// each seen through a seller scope (a seller key sees only its seller's rows: another seller's row
// does not exist for it, so it is answered as not found), and the usage of each link's caps. Every
// change runs in a transaction that names its actor to the audit trail (platform/audit.ts).
import type { Readable } from 'node:stream';
import { audited } from '../platform/audit.ts';
import { AppError, notFound } from '../platform/http/errors.ts';
import type { Db } from '../platform/db.ts';
import { isUniqueViolation, mapDbError } from '../platform/pg-errors.ts';
import { BlockCsvHeaderError, type BlockImportResult, importBlocklist } from './blocklist-import.ts';
import { capBuckets, concurrencyAt } from './decide.ts';
import * as repo from './repository.ts';
import type { CallerBlockRow, CampaignRow, CappedOwners, DidRow, LinkRow, NamedLink } from './repository.ts';
import {
  type CampaignPatch,
  type ClientBody,
  campaignValues,
  capValues,
  clientValues,
  type DidPatch,
  type GroupBody,
  groupValues,
  hasCapFields,
  type LinkPatch,
  linkValues,
  type SellerBody,
  sellerValues,
} from './schemas.ts';
import type { SlotStore } from './slots.ts';

type Page = { limit: number; offset: number; order?: repo.ListSort | undefined };
/** The seller a request is limited to, or null for staff (every seller). */
type Scope = string | null;

export class RoutingService {
  constructor(private db: Db) {}

  // ---------------------------------------------------------------- sellers (staff only)

  listSellers(p: Page) {
    return repo.listSellers(this.db, p);
  }

  async seller(id: string) {
    const r = await repo.seller(this.db, id);
    if (!r) throw notFound('seller', id);
    return r;
  }

  createSeller(b: SellerBody) {
    return audited(this.db, (tx) => repo.insertSeller(tx, { ...sellerValues(b), name: b.name })).catch((e) =>
      mapDbError(e, 'seller'),
    );
  }

  async updateSeller(id: string, b: Partial<SellerBody>) {
    const r = await audited(this.db, (tx) => repo.updateSeller(tx, id, sellerValues(b))).catch((e) =>
      mapDbError(e, 'seller'),
    );
    if (!r) throw notFound('seller', id);
    return r;
  }

  /** Refused while campaigns or DIDs belong to the seller: their calls and reports would lose an owner. */
  async deleteSeller(id: string): Promise<void> {
    const h = await repo.sellerHoldings(this.db, id);
    if (h.campaigns || h.dids) throw new AppError('IN_USE', 'seller still owns campaigns or DIDs', h);
    if (!(await audited(this.db, (tx) => repo.deleteSeller(tx, id)))) throw notFound('seller', id);
  }

  // ---------------------------------------------------------------- clients (staff only)

  listClients(p: Page) {
    return repo.listClients(this.db, p);
  }

  async client(id: string) {
    const r = await repo.client(this.db, id);
    if (!r) throw notFound('client', id);
    return r;
  }

  /** The group a client body names must exist (answered 404, not a foreign-key error). */
  private async checkGroup(groupId: string | null | undefined) {
    if (groupId && !(await repo.groupExists(this.db, groupId))) throw notFound('buyer group', groupId);
  }

  async createClient(b: ClientBody & { name: string; endpoint: string }) {
    await this.checkGroup(b.group_id);
    return audited(this.db, (tx) => repo.insertClient(tx, clientValues(b))).catch((e) =>
      mapDbError(e, 'client'),
    );
  }

  async updateClient(id: string, b: ClientBody) {
    await this.checkGroup(b.group_id);
    const r = await audited(this.db, (tx) => repo.updateClient(tx, id, clientValues(b))).catch((e) =>
      mapDbError(e, 'client'),
    );
    if (!r) throw notFound('client', id);
    return r;
  }

  /** A linked client is deleted only with `cascade`, which removes its links too. */
  async deleteClient(id: string, cascade: boolean): Promise<void> {
    const n = await repo.clientLinkCount(this.db, id);
    if (n && !cascade)
      throw new AppError('IN_USE', 'client is linked to campaigns (delete with ?cascade=true to unlink)', {
        links: n,
      });
    if (!(await audited(this.db, (tx) => repo.deleteClientAndLinks(tx, id)))) throw notFound('client', id);
  }

  // ---------------------------------------------------------------- buyer groups (staff only)

  listGroups(p: Page) {
    return repo.listGroups(this.db, p);
  }

  async group(id: string) {
    const r = await repo.group(this.db, id);
    if (!r) throw notFound('buyer group', id);
    return r;
  }

  createGroup(b: GroupBody) {
    return audited(this.db, (tx) => repo.insertGroup(tx, { ...groupValues(b), name: b.name })).catch((e) =>
      mapDbError(e, 'buyer group'),
    );
  }

  async updateGroup(id: string, b: Partial<GroupBody>) {
    const v = groupValues(b);
    if (Object.values(v).every((x) => x === undefined)) return this.group(id);
    const r = await audited(this.db, (tx) => repo.updateGroup(tx, id, v)).catch((e) =>
      mapDbError(e, 'buyer group'),
    );
    if (!r) throw notFound('buyer group', id);
    return r;
  }

  /** A group with clients is deleted only with `cascade`, which takes its clients out of it. */
  async deleteGroup(id: string, cascade: boolean): Promise<void> {
    const n = await repo.groupMemberCount(this.db, id);
    if (n && !cascade)
      throw new AppError('IN_USE', 'buyer group has clients (delete with ?cascade=true to ungroup them)', {
        clients: n,
      });
    if (!(await audited(this.db, (tx) => repo.deleteGroupDetaching(tx, id))))
      throw notFound('buyer group', id);
  }

  // ---------------------------------------------------------------- campaigns

  listCampaigns(f: Page & { sellerId?: string | undefined }) {
    return repo.listCampaigns(this.db, f);
  }

  /** A campaign visible to the caller, or 404 (another seller's campaign does not exist for you). */
  async campaign(id: string, scope: Scope): Promise<CampaignRow> {
    const r = await repo.campaign(this.db, id, scope);
    if (!r) throw notFound('campaign', id);
    return r;
  }

  async createCampaign(b: CampaignPatch & { name: string; seller_id?: string | undefined }, scope: Scope) {
    const sellerId = scope ?? b.seller_id;
    if (!sellerId)
      throw new AppError('VALIDATION_FAILED', 'seller_id is required', [
        { path: 'seller_id', message: 'required' },
      ]);
    if (scope && b.seller_id && b.seller_id !== scope) throw notFound('seller', b.seller_id);
    if (!(await repo.sellerExists(this.db, sellerId))) throw notFound('seller', sellerId);
    await this.checkDefaultRoute(b, sellerId, null);
    return audited(this.db, (tx) =>
      repo.insertCampaign(tx, { ...campaignValues(b), name: b.name, sellerId }),
    ).catch((e) => mapDbError(e, 'campaign'));
  }

  async updateCampaign(id: string, b: CampaignPatch, scope: Scope) {
    const c = await this.campaign(id, scope);
    await this.checkDefaultRoute(b, c.sellerId, id);
    return audited(this.db, (tx) => repo.updateCampaign(tx, id, campaignValues(b))).catch((e) =>
      mapDbError(e, 'campaign'),
    );
  }

  /** A default route to a campaign names another campaign of the same seller. */
  private async checkDefaultRoute(b: CampaignPatch, sellerId: string, self: string | null) {
    const r = b.default_route;
    if (r?.kind !== 'campaign') return;
    const bad = (message: string) =>
      new AppError('VALIDATION_FAILED', message, [{ path: 'default_route.campaign_id', message }]);
    if (r.campaign_id === self) throw bad('a campaign cannot be its own default route');
    const target = await repo.campaign(this.db, r.campaign_id, sellerId);
    if (!target) throw bad('no campaign of this seller has that id');
  }

  /** A campaign with DIDs or links is deleted only with `cascade`: DIDs detached, links removed. */
  async deleteCampaign(id: string, cascade: boolean, scope: Scope): Promise<void> {
    await this.campaign(id, scope);
    const h = await repo.campaignHoldings(this.db, id);
    if ((h.dids || h.links) && !cascade)
      throw new AppError(
        'IN_USE',
        'campaign has DIDs or links (delete with ?cascade=true to detach DIDs and remove links)',
        h,
      );
    await audited(this.db, (tx) => repo.deleteCampaignDetaching(tx, id));
  }

  // ---------------------------------------------------------------- DIDs

  listDids(f: Page & { sellerId: Scope; campaignId?: string | undefined }) {
    return repo.listDids(this.db, f);
  }

  async did(id: string, scope: Scope): Promise<DidRow> {
    const r = await repo.did(this.db, id, scope);
    if (!r) throw notFound('DID', id);
    return r;
  }

  /** The campaign must belong to the DID's seller (and be visible to the caller). */
  private async checkCampaign(campaignId: string | null | undefined, sellerId: string, scope: Scope) {
    if (!campaignId) return;
    const c = await this.campaign(campaignId, scope);
    if (c.sellerId !== sellerId) throw notFound('campaign', campaignId);
  }

  /** A DID's caps limit the seller's own traffic: the operator sets them, never a seller key. */
  private checkCapsByStaff(b: DidPatch, scope: Scope) {
    if (scope && hasCapFields(b))
      throw new AppError('FORBIDDEN_ROLE', "a DID's caps are set by staff, not by a seller key");
  }

  async createDid(
    b: { number: string; seller_id?: string | undefined; campaign_id?: string | null | undefined } & DidPatch,
    scope: Scope,
  ) {
    this.checkCapsByStaff(b, scope);
    const sellerId = scope ?? b.seller_id;
    if (!sellerId)
      throw new AppError('VALIDATION_FAILED', 'seller_id is required', [
        { path: 'seller_id', message: 'required' },
      ]);
    if (scope && b.seller_id && b.seller_id !== scope) throw notFound('seller', b.seller_id);
    staffOnlyMoney(b, ['rate_per_min_micros', 'monthly_rent_micros'], scope);
    if (!(await repo.sellerExists(this.db, sellerId))) throw notFound('seller', sellerId);
    await this.checkCampaign(b.campaign_id, sellerId, scope);
    return audited(this.db, (tx) =>
      repo.insertDid(tx, {
        ...capValues(b),
        number: b.number,
        sellerId,
        campaignId: b.campaign_id ?? null,
        ratePerMinMicros: b.rate_per_min_micros,
        monthlyRentMicros: b.monthly_rent_micros,
      }),
    ).catch((e) => {
      // A seller learns only that the number cannot be taken, the same answer whether it is its
      // own or another seller's: no existence of other sellers' rows leaks through the error.
      if (scope && isUniqueViolation(e))
        throw new AppError('NUMBER_UNAVAILABLE', `number ${b.number} cannot be taken`);
      return mapDbError(e, `DID ${b.number}`);
    });
  }

  async setDidCampaign(id: string, campaignId: string | null | undefined, scope: Scope) {
    return this.updateDid(id, { campaign_id: campaignId }, scope);
  }

  /**
   * Moves a DID to another campaign of its seller (or none), and/or changes its caps and what the
   * carrier charges for it (both staff only).
   */
  async updateDid(id: string, b: DidPatch, scope: Scope) {
    this.checkCapsByStaff(b, scope);
    staffOnlyMoney(b, ['rate_per_min_micros', 'monthly_rent_micros'], scope);
    const d = await this.did(id, scope);
    await this.checkCampaign(b.campaign_id, d.sellerId, scope);
    const v = {
      campaignId: b.campaign_id,
      ...capValues(b),
      ratePerMinMicros: b.rate_per_min_micros,
      monthlyRentMicros: b.monthly_rent_micros,
    };
    if (Object.values(v).every((x) => x === undefined)) return d; // nothing to change
    return audited(this.db, (tx) => repo.updateDid(tx, d.id, v));
  }

  async deleteDid(id: string, scope: Scope): Promise<void> {
    const d = await this.did(id, scope);
    await audited(this.db, (tx) => repo.deleteDid(tx, d.id));
  }

  // ---------------------------------------------------------------- links (a seller manages its campaigns' links)

  async linksOfCampaign(campaignId: string, scope: Scope): Promise<LinkRow[]> {
    await this.campaign(campaignId, scope);
    return repo.linksOfCampaign(this.db, campaignId);
  }

  async link(id: string, scope: Scope): Promise<LinkRow> {
    const r = await repo.linkWithSeller(this.db, id);
    if (!r || (scope && r.sellerId !== scope)) throw notFound('link', id);
    return r.link;
  }

  async createLink(campaignId: string, b: LinkPatch & { client_id: string }, scope: Scope) {
    staffOnlyMoney(b, LINK_MONEY, scope);
    await this.campaign(campaignId, scope);
    if (!(await repo.clientExists(this.db, b.client_id))) throw notFound('client', b.client_id);
    return audited(this.db, (tx) =>
      repo.insertLink(tx, { ...linkValues(b), campaignId, clientId: b.client_id }),
    ).catch((e) => mapDbError(e, 'link of this client to this campaign'));
  }

  async updateLink(id: string, b: LinkPatch, scope: Scope) {
    staffOnlyMoney(b, LINK_MONEY, scope);
    const l = await this.link(id, scope);
    return audited(this.db, (tx) => repo.updateLink(tx, l.id, linkValues(b)));
  }

  async deleteLink(id: string, scope: Scope): Promise<void> {
    const l = await this.link(id, scope);
    await audited(this.db, (tx) => repo.deleteLink(tx, l.id));
  }

  /** Every link with its names and its client's time zone (see `repository.namedLinks`). */
  namedLinks(scope: Scope): Promise<NamedLink[]> {
    return repo.namedLinks(this.db, scope);
  }

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

/** A link's money: what the seller is owed and the client charged is the operator's to set. */
const LINK_MONEY = ['payout_micros', 'revenue_micros', 'convert_after_s', 'billing_increment'] as const;

/** A seller key may not set money fields (payouts, revenue, carrier costs): 403, nothing changed. */
function staffOnlyMoney<T extends object>(b: T, fields: readonly string[], scope: Scope): void {
  if (!scope) return;
  const set = fields.filter((f) => (b as Record<string, unknown>)[f] !== undefined);
  if (set.length)
    throw new AppError(
      'FORBIDDEN_ROLE',
      `only staff set ${set.join(', ')}`,
      set.map((f) => ({ path: f, message: 'staff only' })),
    );
}
