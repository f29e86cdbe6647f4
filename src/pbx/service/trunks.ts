// Seller trunks: the inbound endpoints a seller's carrier sends calls from (identified by address).
import type { Db } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import type { EndpointOptions } from '../options.ts';
import * as repo from '../repository.ts';
import type { EndpointRecord } from '../repository.ts';
import { inboundTrunkRows } from '../rows.ts';
import { generateUsername } from '../secrets.ts';
import type { Actor, PbxAudit } from './audit.ts';
import type { EndpointChange, EndpointService, Raw } from './endpoints.ts';
import { defaultsIn, type PbxSettings } from './settings.ts';

export interface TrunkInput {
  sellerId: string;
  name?: string | undefined;
  ips: string[];
  options: EndpointOptions;
  raw_options: Raw;
}

export class TrunkService {
  constructor(
    private db: Db,
    private s: PbxSettings,
    private audit: PbxAudit,
    private endpoints: EndpointService,
  ) {}

  async create(actor: Actor, b: TrunkInput): Promise<EndpointRecord> {
    const action = 'seller_trunk.create';
    if (!(await repo.sellerExists(this.db, b.sellerId)))
      return this.audit.failed(
        actor,
        action,
        b.sellerId,
        new AppError('VALIDATION_FAILED', `seller ${b.sellerId} not found`),
      );
    const name = b.name ?? `seller-${b.sellerId.slice(0, 8)}-${generateUsername().slice(1, 5)}`;
    const d = defaultsIn(this.s, b.options.context ?? this.s.sellerContext);
    const rows = inboundTrunkRows(name, b.ips, b.options, b.raw_options, d);
    return this.endpoints.create(actor, action, rows, {
      endpoint: name,
      kind: 'seller_trunk',
      sellerId: b.sellerId,
      options: { ...b.options, raw_options: b.raw_options },
      ips: b.ips,
    });
  }

  /**
   * A carrier's inbound trunk (DID provisioning asks for one per provider account): identified by the
   * carrier's signalling addresses, landing in the seller context like a seller trunk, owned by no
   * seller (the DID picks the seller); kept as it is when it exists.
   */
  async ensureCarrier(actor: Actor, name: string, ips: string[]): Promise<EndpointRecord> {
    const existing = await repo.endpointNamed(this.db, name);
    if (existing) return existing;
    const rows = inboundTrunkRows(name, ips, {}, {}, defaultsIn(this.s, this.s.sellerContext));
    return this.endpoints.create(actor, 'carrier_trunk.create', rows, {
      endpoint: name,
      kind: 'carrier_trunk',
      options: {},
      ips,
    });
  }

  /** Trunks, optionally of one seller (a seller key's scope). */
  list(f: { limit: number; offset: number; sellerId?: string | null | undefined }) {
    return repo.listEndpoints(this.db, { ...f, kind: 'seller_trunk' });
  }

  get(id: string, sellerScope: string | null): Promise<EndpointRecord | null> {
    return repo.trunk(this.db, id, sellerScope);
  }

  async update(actor: Actor, id: string, c: EndpointChange): Promise<EndpointRecord> {
    const rec = await this.get(id, null);
    if (!rec) return this.audit.failed(actor, 'seller_trunk.update', id, notFound('trunk', id));
    return this.endpoints.update(actor, 'seller_trunk.update', rec, c);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const rec = await this.get(id, null);
    if (!rec) return this.audit.failed(actor, 'seller_trunk.delete', id, notFound('trunk', id));
    await this.endpoints.remove(actor, 'seller_trunk.delete', rec);
  }
}
