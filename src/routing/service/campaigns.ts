// The routing service's second layer (see ../service.ts): what a seller routes by (campaigns, DIDs,
// the links between campaigns and clients), each seen through the seller scope; money fields staff only.
import { type Actor, audited } from '../../platform/audit.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { isUniqueViolation, mapDbError } from '../../platform/pg-errors.ts';
import * as repo from '../repository.ts';
import type { CampaignRow, DidRow, LinkRow, NamedLink } from '../repository.ts';
import {
  type CampaignPatch,
  campaignValues,
  capValues,
  type DidPatch,
  hasCapFields,
  type LinkPatch,
  linkValues,
} from '../schemas.ts';
import { type Page, RoutingOwners, type Scope } from './owners.ts';

export class RoutingCampaigns extends RoutingOwners {
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

  async createCampaign(
    b: CampaignPatch & { name: string; seller_id?: string | undefined },
    scope: Scope,
    actor: Actor | null,
  ) {
    const sellerId = scope ?? b.seller_id;
    if (!sellerId)
      throw new AppError('VALIDATION_FAILED', 'seller_id is required', [
        { path: 'seller_id', message: 'required' },
      ]);
    if (scope && b.seller_id && b.seller_id !== scope) throw notFound('seller', b.seller_id);
    await this.liveSeller(sellerId);
    await this.checkDefaultRoute(b, sellerId, null);
    return audited(
      this.db,
      (tx) => repo.insertCampaign(tx, { ...campaignValues(b), name: b.name, sellerId }),
      actor,
    ).catch((e) => mapDbError(e, 'campaign'));
  }

  async updateCampaign(id: string, b: CampaignPatch, scope: Scope, actor: Actor | null) {
    const c = await this.campaign(id, scope);
    await this.checkDefaultRoute(b, c.sellerId, id);
    return audited(this.db, (tx) => repo.updateCampaign(tx, id, campaignValues(b)), actor).catch((e) =>
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
  async deleteCampaign(id: string, cascade: boolean, scope: Scope, actor: Actor | null): Promise<void> {
    await this.campaign(id, scope);
    const h = await repo.campaignHoldings(this.db, id);
    if ((h.dids || h.links) && !cascade)
      throw new AppError(
        'IN_USE',
        'campaign has DIDs or links (delete with ?cascade=true to detach DIDs and remove links)',
        h,
      );
    await audited(this.db, (tx) => repo.deleteCampaignDetaching(tx, id), actor);
  }

  // ---------------------------------------------------------------- DIDs

  /** A seller's (`sellerId`: its scope) or every seller's DIDs, filtered and ordered in the query. */
  listDids(f: repo.DidFilter & { sellerId: Scope }) {
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
    actor: Actor | null,
  ) {
    this.checkCapsByStaff(b, scope);
    const sellerId = scope ?? b.seller_id;
    if (!sellerId)
      throw new AppError('VALIDATION_FAILED', 'seller_id is required', [
        { path: 'seller_id', message: 'required' },
      ]);
    if (scope && b.seller_id && b.seller_id !== scope) throw notFound('seller', b.seller_id);
    staffOnlyMoney(b, ['rate_per_min_micros', 'monthly_rent_micros'], scope);
    await this.liveSeller(sellerId);
    await this.checkCampaign(b.campaign_id, sellerId, scope);
    return audited(
      this.db,
      (tx) =>
        repo.insertDid(tx, {
          ...capValues(b),
          number: b.number,
          sellerId,
          campaignId: b.campaign_id ?? null,
          active: b.active,
          ratePerMinMicros: b.rate_per_min_micros,
          monthlyRentMicros: b.monthly_rent_micros,
        }),
      actor,
    ).catch((e) => {
      // A seller learns only that the number cannot be taken, the same answer whether it is its
      // own or another seller's: no existence of other sellers' rows leaks through the error.
      if (scope && isUniqueViolation(e))
        throw new AppError('NUMBER_UNAVAILABLE', `number ${b.number} cannot be taken`);
      return mapDbError(e, `DID ${b.number}`);
    });
  }

  async setDidCampaign(id: string, campaignId: string | null | undefined, scope: Scope, actor: Actor | null) {
    return this.updateDid(id, { campaign_id: campaignId }, scope, actor);
  }

  /**
   * Moves a DID to another campaign of its seller (or none), and/or changes its caps and what the
   * carrier charges for it (both staff only).
   */
  async updateDid(id: string, b: DidPatch, scope: Scope, actor: Actor | null) {
    this.checkCapsByStaff(b, scope);
    staffOnlyMoney(b, ['rate_per_min_micros', 'monthly_rent_micros'], scope);
    const d = await this.did(id, scope);
    await this.checkCampaign(b.campaign_id, d.sellerId, scope);
    const v = {
      campaignId: b.campaign_id,
      active: b.active,
      ...capValues(b),
      ratePerMinMicros: b.rate_per_min_micros,
      monthlyRentMicros: b.monthly_rent_micros,
    };
    if (Object.values(v).every((x) => x === undefined)) return d; // nothing to change
    return audited(this.db, (tx) => repo.updateDid(tx, d.id, v), actor);
  }

  async deleteDid(id: string, scope: Scope, actor: Actor | null): Promise<void> {
    const d = await this.did(id, scope);
    await audited(this.db, (tx) => repo.deleteDid(tx, d.id), actor);
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

  async createLink(
    campaignId: string,
    b: LinkPatch & { client_id: string },
    scope: Scope,
    actor: Actor | null,
  ) {
    staffOnlyMoney(b, LINK_MONEY, scope);
    await this.campaign(campaignId, scope);
    if (!(await repo.clientExists(this.db, b.client_id))) throw notFound('client', b.client_id);
    return audited(
      this.db,
      (tx) => repo.insertLink(tx, { ...linkValues(b), campaignId, clientId: b.client_id }),
      actor,
    ).catch((e) => mapDbError(e, 'link of this client to this campaign'));
  }

  async updateLink(id: string, b: LinkPatch, scope: Scope, actor: Actor | null) {
    staffOnlyMoney(b, LINK_MONEY, scope);
    const l = await this.link(id, scope);
    return audited(this.db, (tx) => repo.updateLink(tx, l.id, linkValues(b)), actor);
  }

  async deleteLink(id: string, scope: Scope, actor: Actor | null): Promise<void> {
    const l = await this.link(id, scope);
    await audited(this.db, (tx) => repo.deleteLink(tx, l.id), actor);
  }

  /** Every link with its names and its client's time zone (see `repository.namedLinks`). */
  namedLinks(scope: Scope): Promise<NamedLink[]> {
    return repo.namedLinks(this.db, scope);
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
