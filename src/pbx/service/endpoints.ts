// Provisioned endpoints: the writes every kind shares (create, change, remove: its ps_* rows, our
// record and the audit in one transaction), and client endpoints, which also point routing at them.
import type { Db } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { isUniqueViolation, pgError } from '../../platform/pg-errors.ts';
import type { EndpointOptions } from '../options.ts';
import * as repo from '../repository.ts';
import type { EndpointRecord, Tx } from '../repository.ts';
import { type EndpointRows, inboundTrunkRows, ipTrunkRows, registrationRows } from '../rows.ts';
import { generatePassword, generateUsername } from '../secrets.ts';
import type { Actor, PbxAudit } from './audit.ts';
import { defaultsIn, type PbxSettings } from './settings.ts';

export type Raw = Record<string, string | number | boolean | null>;

export interface ClientEndpointInput {
  kind: 'registration' | 'ip';
  name?: string | undefined;
  ips?: string[] | undefined;
  contact?: { host: string; port: number } | undefined;
  options: EndpointOptions;
  raw_options: Raw;
}

/** A change of a provisioned endpoint: each given field replaces the stored one. */
export interface EndpointChange {
  options?: EndpointOptions | undefined;
  raw_options?: Raw | undefined;
  ips?: string[] | undefined;
  contact?: { host: string; port: number } | undefined;
}

export class EndpointService {
  constructor(
    private db: Db,
    private s: PbxSettings,
    private audit: PbxAudit,
  ) {}

  /** Writes one endpoint's rows + our record + audit in one transaction; maps name clashes. */
  async create(
    actor: Actor,
    action: string,
    rows: EndpointRows,
    record: Parameters<typeof repo.insertEndpoint>[1],
    also?: (tx: Tx) => Promise<void>,
  ): Promise<EndpointRecord> {
    try {
      return await this.db.transaction(async (tx) => {
        await repo.writeRows(tx, rows);
        const r = await repo.insertEndpoint(tx, record);
        await also?.(tx);
        await this.audit.record(tx, actor, action, record.endpoint, 'ok', {
          kind: record.kind,
          options: record.options,
        });
        return r;
      });
    } catch (e) {
      if (isUniqueViolation(e)) {
        const c = pgError(e).constraint ?? '';
        const err =
          c === 'pbx_endpoints_client_uq'
            ? new AppError('CONFLICT', 'this client already has an endpoint (delete it first)')
            : new AppError('DUPLICATE', `endpoint ${record.endpoint} already exists`, { constraint: c });
        return this.audit.failed(actor, action, record.endpoint, err);
      }
      return this.audit.failed(actor, action, record.endpoint, e);
    }
  }

  async remove(actor: Actor, action: string, rec: EndpointRecord): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        await repo.deleteRows(tx, rec.endpoint);
        await repo.deleteEndpoint(tx, rec.id);
        await this.audit.record(tx, actor, action, rec.endpoint, 'ok', { kind: rec.kind });
      });
    } catch (e) {
      return this.audit.failed(actor, action, rec.endpoint, e);
    }
  }

  /**
   * Changes a client endpoint's or trunk's options, addresses or contact: its rows are rewritten in
   * one transaction, keeping its name, its SIP credentials and any registered contacts.
   */
  async update(
    actor: Actor,
    action: string,
    rec: EndpointRecord,
    c: EndpointChange,
  ): Promise<EndpointRecord> {
    const { raw_options: oldRaw, ...oldOptions } = rec.options as EndpointOptions & { raw_options?: Raw };
    const options: EndpointOptions = c.options ?? oldOptions;
    const raw: Raw = c.raw_options ?? oldRaw ?? {};
    const ips = c.ips ?? rec.ips;
    const contact = c.contact ? `sip:${c.contact.host}:${c.contact.port}` : rec.contact;
    if (rec.kind !== 'client_ip' && c.contact)
      return this.audit.failed(
        actor,
        action,
        rec.endpoint,
        new AppError('VALIDATION_FAILED', 'only IP trunks have a contact'),
      );
    if (rec.kind === 'client_registration' && c.ips)
      return this.audit.failed(
        actor,
        action,
        rec.endpoint,
        new AppError('VALIDATION_FAILED', 'registration endpoints have no ips'),
      );
    const context =
      options.context ?? (rec.kind === 'seller_trunk' ? this.s.sellerContext : this.s.clientContext);
    const d = defaultsIn(this.s, context);
    try {
      return await this.db.transaction(async (tx) => {
        let rows: EndpointRows;
        if (rec.kind === 'client_registration') {
          const cred = await repo.storedCredentials(tx, rec.endpoint);
          if (!cred)
            throw new AppError('CONFLICT', `endpoint ${rec.endpoint} has no credentials in ps_auths`);
          rows = registrationRows(rec.endpoint, cred, options, raw, d);
        } else if (rec.kind === 'client_ip')
          rows = ipTrunkRows(rec.endpoint, ips, contact ?? '', options, raw, d);
        else rows = inboundTrunkRows(rec.endpoint, ips, options, raw, d);
        await repo.replaceRows(tx, rows);
        const r = await repo.updateEndpoint(tx, rec.id, {
          options: { ...options, raw_options: raw },
          ips,
          contact,
        });
        await this.audit.record(tx, actor, action, rec.endpoint, 'ok', {
          kind: rec.kind,
          changed: Object.keys(c).filter((k) => c[k as keyof EndpointChange] !== undefined),
        });
        return r;
      });
    } catch (e) {
      return this.audit.failed(actor, action, rec.endpoint, e);
    }
  }

  /** Everything provisioned, filtered, ordered and paged in the query (see `repo.listEndpoints`). */
  list(f: repo.EndpointFilter) {
    return repo.listEndpoints(this.db, f);
  }

  /** The clients among `ids` that already have an endpoint (a client has at most one). */
  clientsWithEndpoint(ids: string[]) {
    return repo.clientsWithEndpoint(this.db, ids);
  }

  // ---------------------------------------------------------------- client endpoints

  ofClient(clientId: string): Promise<EndpointRecord | null> {
    return repo.endpointOfClient(this.db, clientId);
  }

  /**
   * Provisions a client's endpoint and points routing at it (clients.endpoint = the endpoint name, so
   * routing dials PJSIP/<name>). A registration endpoint's password is returned here only.
   */
  async provisionClient(
    actor: Actor,
    clientId: string,
    b: ClientEndpointInput,
  ): Promise<{ record: EndpointRecord; credentials: { username: string; password: string } | null }> {
    const action = 'client_endpoint.create';
    if (!(await repo.clientExists(this.db, clientId)))
      return this.audit.failed(actor, action, clientId, notFound('client', clientId));
    const d = defaultsIn(this.s, b.options.context ?? this.s.clientContext);
    const options = { ...b.options, raw_options: b.raw_options };
    const pointRouting = (name: string) => (tx: Tx) => repo.pointClientAt(tx, clientId, name);
    if (b.kind === 'registration') {
      const username = generateUsername();
      const password = generatePassword();
      const rows = registrationRows(username, { username, password }, b.options, b.raw_options, d);
      const record = await this.create(
        actor,
        action,
        rows,
        { endpoint: username, kind: 'client_registration', clientId, username, options },
        pointRouting(username),
      );
      return { record, credentials: { username, password } };
    }
    const name = b.name ?? `client-${clientId.slice(0, 8)}`;
    const ips = b.ips ?? [];
    const contact = `sip:${b.contact!.host}:${b.contact!.port}`;
    const rows = ipTrunkRows(name, ips, contact, b.options, b.raw_options, d);
    const record = await this.create(
      actor,
      action,
      rows,
      { endpoint: name, kind: 'client_ip', clientId, options, ips, contact },
      pointRouting(name),
    );
    return { record, credentials: null };
  }

  async updateClient(actor: Actor, clientId: string, c: EndpointChange): Promise<EndpointRecord> {
    const rec = await this.ofClient(clientId);
    if (!rec)
      return this.audit.failed(
        actor,
        'client_endpoint.update',
        clientId,
        notFound('client endpoint', clientId),
      );
    return this.update(actor, 'client_endpoint.update', rec, c);
  }

  async deprovisionClient(actor: Actor, clientId: string): Promise<void> {
    const rec = await this.ofClient(clientId);
    if (!rec)
      return this.audit.failed(
        actor,
        'client_endpoint.delete',
        clientId,
        notFound('client endpoint', clientId),
      );
    await this.remove(actor, 'client_endpoint.delete', rec);
  }
}
