// PBX provisioning: client endpoints, seller trunks, PBX users with extensions, apply, audit. Every
// provisioning change writes all of its rows (ps_* + ours + the audit record) in one transaction.
import { and, asc, count, desc, eq, gte, lte, type SQL, sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import { AppError, notFound } from '../platform/http/errors.ts';
import { isUniqueViolation, pgError } from '../platform/pg-errors.ts';
import type { Db } from '../platform/db.ts';
import { apiKeys } from '../db/schema/auth.ts';
import { psEndpoints } from '../db/schema/asterisk.ts';
import { pbxAudit, pbxEndpoints, pbxUsers, type PbxEndpointKind } from '../db/schema/pbx.ts';
import { clients, sellers } from '../db/schema/routing.ts';
import type { Logger } from '../platform/logger.ts';
import { lowestFreeExtension } from './allocate.ts';
import { type ApplyNode, type ApplyOptions, applyToNode, type NodeReport } from './apply.ts';
import { RedisLock } from './lock.ts';
import type { EndpointOptions, OptionDefaults } from './options.ts';
import {
  deleteRows,
  type EndpointRows,
  inboundTrunkRows,
  ipTrunkRows,
  registrationRows,
  replaceRows,
  storedCredentials,
  type Tx,
  writeRows,
} from './rows.ts';
import { generatePassword, generateUsername } from './secrets.ts';

export interface Actor {
  keyId: string | null;
}

export interface PbxSettings {
  extensionMin: number;
  extensionMax: number;
  transport: string | null;
  userContext: string;
  clientContext: string;
  sellerContext: string;
  codecs: string[];
  apply: ApplyOptions;
  lockTtlMs: number;
  lockKey: string;
}

type Raw = Record<string, string | number | boolean | null>;
export type EndpointRecord = typeof pbxEndpoints.$inferSelect;
export type UserRecord = typeof pbxUsers.$inferSelect;

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

export interface TrunkInput {
  sellerId: string;
  name?: string | undefined;
  ips: string[];
  options: EndpointOptions;
  raw_options: Raw;
}

export interface ApplyReport {
  triggered_by: string;
  started_at: string;
  finished_at: string;
  ok: boolean;
  endpoints: number;
  nodes: NodeReport[];
}

const uniqueViolation = isUniqueViolation;
/** Advisory lock key (any constant bigint) queueing extension allocations. */
const EXTENSION_LOCK = 7_242_001;
/** Constraints a new endpoint name can hit when the name is taken in Asterisk's tables or ours. */
const ENDPOINT_NAME_CONSTRAINTS = new Set([
  'ps_endpoints_id_key',
  'ps_auths_id_key',
  'ps_aors_id_key',
  'ps_endpoint_id_ips_id_key',
  'pbx_endpoints_endpoint_uq',
]);

export class PbxService {
  private lock: RedisLock;

  constructor(
    private db: Db,
    redis: Redis,
    private s: PbxSettings,
    private nodes: () => ApplyNode[],
    private log: Logger,
  ) {
    this.lock = new RedisLock(redis, s.lockKey, s.lockTtlMs);
  }

  private defaults(context: string): OptionDefaults {
    return { context, transport: this.s.transport, codecs: this.s.codecs };
  }

  // ---------------------------------------------------------------- audit

  async audit(
    q: Db | Tx,
    actor: Actor,
    action: string,
    target: string | null,
    result: 'ok' | 'error',
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    let label: string | null = null;
    if (actor.keyId) {
      const [k] = await q
        .select({ label: apiKeys.label, prefix: apiKeys.prefix })
        .from(apiKeys)
        .where(eq(apiKeys.id, actor.keyId));
      label = k ? (k.label ?? `key ${k.prefix}`) : null;
    }
    await q
      .insert(pbxAudit)
      .values({ actorKeyId: actor.keyId, actorLabel: label, action, target, result, detail });
  }

  /**
   * Records a failed change (outside the rolled-back transaction) and rethrows. An unexpected
   * database error is replaced by one that carries only its PostgreSQL code: drizzle's error message
   * lists the query's parameters, which include generated passwords, and would reach the logs.
   */
  private async failed(actor: Actor, action: string, target: string | null, e: unknown): Promise<never> {
    const pg = pgError(e);
    const detail =
      e instanceof AppError
        ? { code: e.code, message: e.message }
        : { code: 'INTERNAL', message: 'internal error', ...(pg.code ? { pg_code: pg.code } : {}) };
    await this.audit(this.db, actor, action, target, 'error', detail).catch(() =>
      this.log.error({ action }, 'pbx audit write failed'),
    );
    if (e instanceof AppError) throw e;
    const where = pg.code ? ` (PostgreSQL ${pg.code}${pg.constraint ? ` ${pg.constraint}` : ''})` : '';
    throw new Error(`pbx ${action} failed${where}`);
  }

  async listAudit(f: {
    limit: number;
    offset: number;
    action?: string | undefined;
    result?: 'ok' | 'error' | undefined;
    target?: string | undefined;
    actor_key_id?: string | undefined;
    from?: Date | undefined;
    to?: Date | undefined;
  }) {
    const conds: SQL[] = [];
    if (f.action) conds.push(eq(pbxAudit.action, f.action));
    if (f.result) conds.push(eq(pbxAudit.result, f.result));
    if (f.target) conds.push(eq(pbxAudit.target, f.target));
    if (f.actor_key_id) conds.push(eq(pbxAudit.actorKeyId, f.actor_key_id));
    if (f.from) conds.push(gte(pbxAudit.at, f.from));
    if (f.to) conds.push(lte(pbxAudit.at, f.to));
    const where = conds.length ? and(...conds) : undefined;
    const items = await this.db
      .select()
      .from(pbxAudit)
      .where(where)
      .orderBy(desc(pbxAudit.at), desc(pbxAudit.id))
      .limit(f.limit)
      .offset(f.offset);
    const [t] = await this.db.select({ n: count() }).from(pbxAudit).where(where);
    return { items, total: t!.n };
  }

  // ---------------------------------------------------------------- endpoints (shared)

  /** Writes one endpoint's rows + our record + audit in one transaction; maps name clashes. */
  private async createEndpoint(
    actor: Actor,
    action: string,
    rows: EndpointRows,
    record: typeof pbxEndpoints.$inferInsert,
    also?: (tx: Tx) => Promise<void>,
  ): Promise<EndpointRecord> {
    try {
      return await this.db.transaction(async (tx) => {
        await writeRows(tx, rows);
        const [r] = await tx.insert(pbxEndpoints).values(record).returning();
        await also?.(tx);
        await this.audit(tx, actor, action, record.endpoint, 'ok', {
          kind: record.kind,
          options: record.options,
        });
        return r!;
      });
    } catch (e) {
      if (uniqueViolation(e)) {
        const c = pgError(e).constraint ?? '';
        const err =
          c === 'pbx_endpoints_client_uq'
            ? new AppError('CONFLICT', 'this client already has an endpoint (delete it first)')
            : new AppError('DUPLICATE', `endpoint ${record.endpoint} already exists`, { constraint: c });
        return this.failed(actor, action, record.endpoint, err);
      }
      return this.failed(actor, action, record.endpoint, e);
    }
  }

  private async removeEndpoint(
    actor: Actor,
    action: string,
    rec: EndpointRecord,
    also?: (tx: Tx) => Promise<void>,
  ) {
    try {
      await this.db.transaction(async (tx) => {
        await deleteRows(tx, rec.endpoint);
        await tx.delete(pbxEndpoints).where(eq(pbxEndpoints.id, rec.id));
        await also?.(tx);
        await this.audit(tx, actor, action, rec.endpoint, 'ok', { kind: rec.kind });
      });
    } catch (e) {
      return this.failed(actor, action, rec.endpoint, e);
    }
  }

  async listEndpoints(f: { limit: number; offset: number; kind?: PbxEndpointKind | undefined }) {
    return this.pageOfEndpoints(f.kind ? eq(pbxEndpoints.kind, f.kind) : undefined, f);
  }

  private async pageOfEndpoints(where: SQL | undefined, f: { limit: number; offset: number }) {
    const items = await this.db
      .select()
      .from(pbxEndpoints)
      .where(where)
      .orderBy(asc(pbxEndpoints.endpoint))
      .limit(f.limit)
      .offset(f.offset);
    const [t] = await this.db.select({ n: count() }).from(pbxEndpoints).where(where);
    return { items, total: t!.n };
  }

  // ---------------------------------------------------------------- client endpoints

  async clientEndpoint(clientId: string): Promise<EndpointRecord | null> {
    const [r] = await this.db.select().from(pbxEndpoints).where(eq(pbxEndpoints.clientId, clientId));
    return r ?? null;
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
    const [c] = await this.db.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId));
    if (!c) return this.failed(actor, action, clientId, notFound('client', clientId));
    const d = this.defaults(b.options.context ?? this.s.clientContext);
    const options = { ...b.options, raw_options: b.raw_options };
    const pointRouting = (name: string) => async (tx: Tx) => {
      await tx.update(clients).set({ endpoint: name }).where(eq(clients.id, clientId));
    };
    if (b.kind === 'registration') {
      const username = generateUsername();
      const password = generatePassword();
      const rows = registrationRows(username, { username, password }, b.options, b.raw_options, d);
      const record = await this.createEndpoint(
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
    const record = await this.createEndpoint(
      actor,
      action,
      rows,
      { endpoint: name, kind: 'client_ip', clientId, options, ips, contact },
      pointRouting(name),
    );
    return { record, credentials: null };
  }

  /**
   * Changes a client endpoint's or trunk's options, addresses or contact: its rows are rewritten in
   * one transaction, keeping its name, its SIP credentials and any registered contacts.
   */
  async updateEndpoint(
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
      return this.failed(
        actor,
        action,
        rec.endpoint,
        new AppError('VALIDATION_FAILED', 'only IP trunks have a contact'),
      );
    if (rec.kind === 'client_registration' && c.ips)
      return this.failed(
        actor,
        action,
        rec.endpoint,
        new AppError('VALIDATION_FAILED', 'registration endpoints have no ips'),
      );
    const context =
      options.context ?? (rec.kind === 'seller_trunk' ? this.s.sellerContext : this.s.clientContext);
    const d = this.defaults(context);
    try {
      return await this.db.transaction(async (tx) => {
        let rows: EndpointRows;
        if (rec.kind === 'client_registration') {
          const cred = await storedCredentials(tx, rec.endpoint);
          if (!cred)
            throw new AppError('CONFLICT', `endpoint ${rec.endpoint} has no credentials in ps_auths`);
          rows = registrationRows(rec.endpoint, cred, options, raw, d);
        } else if (rec.kind === 'client_ip')
          rows = ipTrunkRows(rec.endpoint, ips, contact ?? '', options, raw, d);
        else rows = inboundTrunkRows(rec.endpoint, ips, options, raw, d);
        await replaceRows(tx, rows);
        const [r] = await tx
          .update(pbxEndpoints)
          .set({ options: { ...options, raw_options: raw }, ips, contact })
          .where(eq(pbxEndpoints.id, rec.id))
          .returning();
        await this.audit(tx, actor, action, rec.endpoint, 'ok', {
          kind: rec.kind,
          changed: Object.keys(c).filter((k) => c[k as keyof EndpointChange] !== undefined),
        });
        return r!;
      });
    } catch (e) {
      return this.failed(actor, action, rec.endpoint, e);
    }
  }

  async updateClientEndpoint(actor: Actor, clientId: string, c: EndpointChange): Promise<EndpointRecord> {
    const rec = await this.clientEndpoint(clientId);
    if (!rec)
      return this.failed(actor, 'client_endpoint.update', clientId, notFound('client endpoint', clientId));
    return this.updateEndpoint(actor, 'client_endpoint.update', rec, c);
  }

  async updateTrunk(actor: Actor, id: string, c: EndpointChange): Promise<EndpointRecord> {
    const rec = await this.trunk(id, null);
    if (!rec) return this.failed(actor, 'seller_trunk.update', id, notFound('trunk', id));
    return this.updateEndpoint(actor, 'seller_trunk.update', rec, c);
  }

  async deprovisionClient(actor: Actor, clientId: string): Promise<void> {
    const rec = await this.clientEndpoint(clientId);
    if (!rec)
      return this.failed(actor, 'client_endpoint.delete', clientId, notFound('client endpoint', clientId));
    await this.removeEndpoint(actor, 'client_endpoint.delete', rec);
  }

  // ---------------------------------------------------------------- seller trunks

  async createTrunk(actor: Actor, b: TrunkInput): Promise<EndpointRecord> {
    const action = 'seller_trunk.create';
    const [s] = await this.db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, b.sellerId));
    if (!s)
      return this.failed(
        actor,
        action,
        b.sellerId,
        new AppError('VALIDATION_FAILED', `seller ${b.sellerId} not found`),
      );
    const name = b.name ?? `seller-${b.sellerId.slice(0, 8)}-${generateUsername().slice(1, 5)}`;
    const d = this.defaults(b.options.context ?? this.s.sellerContext);
    const rows = inboundTrunkRows(name, b.ips, b.options, b.raw_options, d);
    return this.createEndpoint(actor, action, rows, {
      endpoint: name,
      kind: 'seller_trunk',
      sellerId: b.sellerId,
      options: { ...b.options, raw_options: b.raw_options },
      ips: b.ips,
    });
  }

  /** Trunks, optionally of one seller (a seller key's scope). */
  async listTrunks(f: { limit: number; offset: number; sellerId?: string | null | undefined }) {
    const conds = [eq(pbxEndpoints.kind, 'seller_trunk')];
    if (f.sellerId) conds.push(eq(pbxEndpoints.sellerId, f.sellerId));
    return this.pageOfEndpoints(and(...conds), f);
  }

  async trunk(id: string, sellerScope: string | null): Promise<EndpointRecord | null> {
    const conds = [eq(pbxEndpoints.id, id), eq(pbxEndpoints.kind, 'seller_trunk')];
    if (sellerScope) conds.push(eq(pbxEndpoints.sellerId, sellerScope));
    const [r] = await this.db
      .select()
      .from(pbxEndpoints)
      .where(and(...conds));
    return r ?? null;
  }

  async deleteTrunk(actor: Actor, id: string): Promise<void> {
    const rec = await this.trunk(id, null);
    if (!rec) return this.failed(actor, 'seller_trunk.delete', id, notFound('trunk', id));
    await this.removeEndpoint(actor, 'seller_trunk.delete', rec);
  }

  // ---------------------------------------------------------------- PBX users

  /** Extensions in use: our users', and numeric endpoint names already in Asterisk's table. */
  private async usedExtensions(q: Db | Tx): Promise<number[]> {
    const users = await q.select({ e: pbxUsers.extension }).from(pbxUsers);
    const eps = await q
      .select({ id: psEndpoints.id })
      .from(psEndpoints)
      .where(sql`${psEndpoints.id} ~ '^[0-9]{1,9}$'`);
    return [...users.map((u) => u.e), ...eps.map((x) => Number(x.id))];
  }

  /**
   * Creates a user on the lowest free extension. The unique index on pbx_users.extension (and the
   * endpoint name in ps_*) is what guarantees two users never share one: a creation that loses a
   * race gets a unique violation, reads the used extensions again and retries. A transaction-scoped
   * advisory lock makes creations queue instead of racing in the common case, so 50 at once do not
   * cost 50 rounds of retries.
   */
  async createUser(
    actor: Actor,
    b: { name: string; email: string },
  ): Promise<{ user: UserRecord; credentials: { username: string; password: string } }> {
    const action = 'user.create';
    const email = b.email.trim().toLowerCase();
    const { extensionMin: min, extensionMax: max } = this.s;
    const exhausted = () => new AppError('EXTENSION_RANGE_EXHAUSTED', `no free extension in ${min}-${max}`);
    const password = generatePassword();
    // Extensions whose endpoint name turned out to be taken in Asterisk's tables (a stale row).
    const blocked: number[] = [];
    let tried: number | null = null;
    for (let attempt = 0; attempt < max - min + 50; attempt++) {
      try {
        const user = await this.db.transaction(async (tx) => {
          await tx.execute(sql`select pg_advisory_xact_lock(${EXTENSION_LOCK})`);
          const ext = lowestFreeExtension([...(await this.usedExtensions(tx)), ...blocked], min, max);
          if (ext === null) throw exhausted();
          tried = ext;
          const id = String(ext);
          const [u] = await tx.insert(pbxUsers).values({ name: b.name, email, extension: ext }).returning();
          const rows = registrationRows(
            id,
            { username: id, password },
            {},
            {},
            this.defaults(this.s.userContext),
            {
              callerid: `"${b.name.replace(/["\\<>]/g, '')}" <${id}>`.slice(0, 40),
            },
          );
          await writeRows(tx, rows);
          await tx.insert(pbxEndpoints).values({ endpoint: id, kind: 'user', userId: u!.id, username: id });
          await this.audit(tx, actor, action, id, 'ok', { user_id: u!.id, email, extension: ext });
          return u!;
        });
        return { user, credentials: { username: String(user.extension), password } };
      } catch (e) {
        if (!uniqueViolation(e)) return this.failed(actor, action, email, e);
        const c = pgError(e).constraint ?? '';
        if (c === 'pbx_users_email_uq')
          return this.failed(
            actor,
            action,
            email,
            new AppError('DUPLICATE', `a user with email ${email} exists`),
          );
        if (c !== 'pbx_users_extension_uq' && !ENDPOINT_NAME_CONSTRAINTS.has(c))
          return this.failed(actor, action, email, e);
        if (c !== 'pbx_users_extension_uq' && tried !== null) blocked.push(tried);
        this.retries++;
        // Lost the race for this extension: try again with fresh data.
      }
    }
    return this.failed(
      actor,
      action,
      email,
      new AppError('CONFLICT', 'could not allocate an extension, try again'),
    );
  }

  /** Extension races lost and retried since start (for tests and the benchmark). */
  retries = 0;

  async listUsers(f: { limit: number; offset: number }) {
    const items = await this.db
      .select()
      .from(pbxUsers)
      .orderBy(asc(pbxUsers.extension))
      .limit(f.limit)
      .offset(f.offset);
    const [t] = await this.db.select({ n: count() }).from(pbxUsers);
    return { items, total: t!.n };
  }

  async user(id: string): Promise<UserRecord | null> {
    const [u] = await this.db.select().from(pbxUsers).where(eq(pbxUsers.id, id));
    return u ?? null;
  }

  async deleteUser(actor: Actor, id: string): Promise<void> {
    const action = 'user.delete';
    const u = await this.user(id);
    if (!u) return this.failed(actor, action, id, notFound('user', id));
    try {
      await this.db.transaction(async (tx) => {
        const ext = String(u.extension);
        await deleteRows(tx, ext);
        await tx.delete(pbxEndpoints).where(eq(pbxEndpoints.userId, id));
        await tx.delete(pbxUsers).where(eq(pbxUsers.id, id));
        await this.audit(tx, actor, action, ext, 'ok', {
          user_id: id,
          email: u.email,
          extension: u.extension,
        });
      });
    } catch (e) {
      return this.failed(actor, action, String(u.extension), e);
    }
  }

  // ---------------------------------------------------------------- apply

  /** One apply at a time across every instance (Redis lock); the second gets APPLY_IN_PROGRESS. */
  async apply(actor: Actor, triggeredBy: string): Promise<ApplyReport> {
    const held = await this.lock.acquire();
    if (!held)
      return this.failed(
        actor,
        'apply',
        null,
        new AppError('APPLY_IN_PROGRESS', 'another apply is running; try again when it has finished'),
      );
    const started = new Date();
    // Keep the lock while the apply runs longer than its TTL (many endpoints, slow nodes).
    const keep = setInterval(
      () => void held.extend().catch((err: unknown) => this.log.warn({ err }, 'apply lock extend failed')),
      Math.max(100, Math.floor(this.s.lockTtlMs / 3)),
    );
    try {
      const eps = await this.db
        .select({ endpoint: pbxEndpoints.endpoint })
        .from(pbxEndpoints)
        .orderBy(asc(pbxEndpoints.endpoint));
      const names = eps.map((e) => e.endpoint);
      const nodes = await Promise.all(this.nodes().map((n) => applyToNode(n, names, this.s.apply)));
      const ok = nodes.every((n) => n.reachable && n.endpoints.every((e) => e.visible));
      const report: ApplyReport = {
        triggered_by: triggeredBy,
        started_at: started.toISOString(),
        finished_at: new Date().toISOString(),
        ok,
        endpoints: names.length,
        nodes,
      };
      await this.audit(this.db, actor, 'apply', null, ok ? 'ok' : 'error', {
        triggered_by: triggeredBy,
        endpoints: names.length,
        nodes: nodes.map((n) => ({
          node: n.node,
          reachable: n.reachable,
          error: n.error,
          invisible: n.endpoints.filter((e) => !e.visible).map((e) => e.endpoint),
        })),
      });
      return report;
    } catch (e) {
      return this.failed(actor, 'apply', null, e);
    } finally {
      clearInterval(keep);
      await held.release().catch((err: unknown) => this.log.warn({ err }, 'apply lock release failed'));
    }
  }
}
