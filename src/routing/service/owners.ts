// The routing service's first layer (see ../service.ts): the cap owners and buyers staff manage
// (sellers, clients, buyer groups), each change audited.
import { type Actor, audited } from '../../platform/audit.ts';
import type { Db } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import * as repo from '../repository.ts';
import {
  type ClientBody,
  clientValues,
  type GroupBody,
  groupValues,
  type SellerBody,
  sellerValues,
} from '../schemas.ts';

export type Page = { limit: number; offset: number; order?: repo.ListSort | undefined };
/** The seller a request is limited to, or null for staff (every seller). */
export type Scope = string | null;

export class RoutingOwners {
  constructor(protected db: Db) {}

  // ---------------------------------------------------------------- sellers (staff only)

  listSellers(p: Page & repo.OwnerFilter) {
    return repo.listSellers(this.db, p);
  }

  async seller(id: string) {
    const r = await repo.seller(this.db, id);
    if (!r) throw notFound('seller', id);
    return r;
  }

  createSeller(b: SellerBody, actor: Actor | null) {
    return audited(this.db, (tx) => repo.insertSeller(tx, { ...sellerValues(b), name: b.name }), actor).catch(
      (e) => mapDbError(e, 'seller'),
    );
  }

  /** An archived seller is changed by nobody until it is restored (SELLER_ARCHIVED). */
  async updateSeller(id: string, b: Partial<SellerBody>, actor: Actor | null) {
    await this.liveSeller(id);
    const r = await audited(this.db, (tx) => repo.updateSeller(tx, id, sellerValues(b)), actor).catch((e) =>
      mapDbError(e, 'seller'),
    );
    if (!r) throw notFound('seller', id);
    return r;
  }

  /** A seller that exists and is not archived: what new rows (campaigns, DIDs) may name. */
  protected async liveSeller(id: string) {
    const s = await this.seller(id);
    if (s.archivedAt) throw new AppError('SELLER_ARCHIVED', `seller ${id} is archived: restore it first`);
    return s;
  }

  /**
   * Archives a seller (one transaction, audited as the seller's change): it routes nothing from then
   * on (its DIDs' calls end `seller_archived`), its API keys are revoked and its console users
   * disabled; every row naming it stays. Archiving it again is SELLER_ARCHIVED.
   */
  async archiveSeller(id: string, actor: Actor | null) {
    const r = await audited(this.db, (tx) => repo.archiveSeller(tx, id), actor);
    if (r) return r;
    await this.liveSeller(id); // no such seller (404) or archived already (409)
    throw new AppError('SELLER_ARCHIVED', `seller ${id} is archived already`);
  }

  /**
   * Restores an archived seller: its DIDs route again. Its keys stay revoked and its users disabled
   * (an admin makes keys anew and enables users one by one). Restoring a seller that is not archived
   * is NOT_ARCHIVED.
   */
  async restoreSeller(id: string, actor: Actor | null) {
    const r = await audited(this.db, (tx) => repo.restoreSeller(tx, id), actor);
    if (r) return r;
    await this.seller(id);
    throw new AppError('NOT_ARCHIVED', `seller ${id} is not archived`);
  }

  /** Everything that names a seller, counted: what must go before its delete, and what goes with it. */
  async sellerDependants(id: string): Promise<repo.SellerDependants> {
    await this.seller(id);
    return repo.sellerDependants(this.db, id);
  }

  /**
   * Refused (IN_USE, with every count in its details) while anything `kept` names the seller (see
   * `repo.sellerDependants`); otherwise the seller goes with its blocklist, webhook subscriptions and
   * carrier subaccount records. A row made meanwhile still refuses it (its foreign key: IN_USE).
   */
  async deleteSeller(id: string, actor: Actor | null): Promise<void> {
    const d = await repo.sellerDependants(this.db, id);
    const kept = Object.entries(d.kept).filter(([, n]) => n > 0);
    if (kept.length)
      throw new AppError(
        'IN_USE',
        `seller still has ${kept.map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`).join(', ')}`,
        d,
      );
    const gone = await audited(this.db, (tx) => repo.deleteSeller(tx, id), actor).catch((e) =>
      mapDbError(e, 'seller'),
    );
    if (!gone) throw notFound('seller', id);
  }

  // ---------------------------------------------------------------- clients (staff only)

  listClients(p: Page & repo.OwnerFilter) {
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

  async createClient(b: ClientBody & { name: string; endpoint: string }, actor: Actor | null) {
    await this.checkGroup(b.group_id);
    return audited(this.db, (tx) => repo.insertClient(tx, clientValues(b)), actor).catch((e) =>
      mapDbError(e, 'client'),
    );
  }

  async updateClient(id: string, b: ClientBody, actor: Actor | null) {
    await this.checkGroup(b.group_id);
    const r = await audited(this.db, (tx) => repo.updateClient(tx, id, clientValues(b)), actor).catch((e) =>
      mapDbError(e, 'client'),
    );
    if (!r) throw notFound('client', id);
    return r;
  }

  /** A linked client is deleted only with `cascade`, which removes its links too. */
  async deleteClient(id: string, cascade: boolean, actor: Actor | null): Promise<void> {
    const n = await repo.clientLinkCount(this.db, id);
    if (n && !cascade)
      throw new AppError('IN_USE', 'client is linked to campaigns (delete with ?cascade=true to unlink)', {
        links: n,
      });
    if (!(await audited(this.db, (tx) => repo.deleteClientAndLinks(tx, id), actor)))
      throw notFound('client', id);
  }

  // ---------------------------------------------------------------- buyer groups (staff only)

  listGroups(p: Page & repo.OwnerFilter) {
    return repo.listGroups(this.db, p);
  }

  async group(id: string) {
    const r = await repo.group(this.db, id);
    if (!r) throw notFound('buyer group', id);
    return r;
  }

  createGroup(b: GroupBody, actor: Actor | null) {
    return audited(this.db, (tx) => repo.insertGroup(tx, { ...groupValues(b), name: b.name }), actor).catch(
      (e) => mapDbError(e, 'buyer group'),
    );
  }

  async updateGroup(id: string, b: Partial<GroupBody>, actor: Actor | null) {
    const v = groupValues(b);
    if (Object.values(v).every((x) => x === undefined)) return this.group(id);
    const r = await audited(this.db, (tx) => repo.updateGroup(tx, id, v), actor).catch((e) =>
      mapDbError(e, 'buyer group'),
    );
    if (!r) throw notFound('buyer group', id);
    return r;
  }

  /** A group with clients is deleted only with `cascade`, which takes its clients out of it. */
  async deleteGroup(id: string, cascade: boolean, actor: Actor | null): Promise<void> {
    const n = await repo.groupMemberCount(this.db, id);
    if (n && !cascade)
      throw new AppError('IN_USE', 'buyer group has clients (delete with ?cascade=true to ungroup them)', {
        clients: n,
      });
    if (!(await audited(this.db, (tx) => repo.deleteGroupDetaching(tx, id), actor)))
      throw notFound('buyer group', id);
  }
}
