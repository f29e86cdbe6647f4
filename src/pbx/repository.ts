// Every SQL of the PBX domain: Asterisk's realtime ps_* rows, our endpoint and user records, the
// audit trail, and the few routing rows provisioning reads or points (clients, sellers). Functions
// take the database or the caller's transaction, so a service composes one transaction of many.
import {
  and,
  asc,
  desc,
  eq,
  getTableColumns,
  gte,
  ilike,
  inArray,
  like,
  lte,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { psAors, psAuths, psContacts, psEndpointIdIps, psEndpoints } from '../db/schema/asterisk.ts';
import { apiKeys } from '../db/schema/auth.ts';
import { type PbxEndpointKind, pbxAudit, pbxEndpoints, pbxUsers } from '../db/schema/pbx.ts';
import { clients, sellers } from '../db/schema/routing.ts';
import { countWhere, type Db, type ListSort, likeLiteral, listPage, orderOf } from '../platform/db.ts';
import { encodeRow, realtimeDecode } from './realtime.ts';
import type { EndpointRows } from './rows.ts';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database or a transaction on it. */
export type Q = Db | Tx;
export type EndpointRecord = typeof pbxEndpoints.$inferSelect;
export type UserRecord = typeof pbxUsers.$inferSelect;
type Page = { limit: number; offset: number };

// ---------------------------------------------------------------- ps_* rows (Asterisk realtime)

/** Writes the rows, each value through the realtime gate (escaped, control characters refused). */
export async function writeRows(tx: Tx, r: EndpointRows): Promise<void> {
  await tx.insert(psEndpoints).values(encodeRow(r.endpoint, 'ps_endpoints'));
  if (r.auth) await tx.insert(psAuths).values(encodeRow(r.auth, 'ps_auths'));
  if (r.aor) await tx.insert(psAors).values(encodeRow(r.aor, 'ps_aors'));
  if (r.identifies.length)
    await tx.insert(psEndpointIdIps).values(r.identifies.map((i) => encodeRow(i, 'ps_endpoint_id_ips')));
}

/** Removes an endpoint's configuration rows (endpoint, auth, AOR, identifies), keeping contacts. */
async function deleteConfigRows(tx: Tx, id: string): Promise<void> {
  await tx.delete(psEndpoints).where(eq(psEndpoints.id, id));
  await tx.delete(psAuths).where(eq(psAuths.id, id));
  await tx.delete(psAors).where(eq(psAors.id, id));
  await tx.delete(psEndpointIdIps).where(eq(psEndpointIdIps.endpoint, id));
}

/** Rewrites an endpoint's rows with new options; registered contacts stay (the phone stays registered). */
export async function replaceRows(tx: Tx, r: EndpointRows): Promise<void> {
  await deleteConfigRows(tx, r.endpoint.id);
  await writeRows(tx, r);
}

/** The stored SIP credentials of an endpoint (to keep them when its options change). */
export async function storedCredentials(
  tx: Tx,
  id: string,
): Promise<{ username: string; password: string } | null> {
  const [a] = await tx
    .select({ u: psAuths.username, p: psAuths.password })
    .from(psAuths)
    .where(eq(psAuths.id, id));
  // Stored escaped for the realtime driver (see realtime.ts).
  return a?.u && a.p ? { username: realtimeDecode(a.u), password: realtimeDecode(a.p) } : null;
}

/** Removes an endpoint and everything tied to it (auth, AOR, identifies, registered contacts). */
export async function deleteRows(tx: Tx, id: string): Promise<void> {
  await deleteConfigRows(tx, id);
  // Contact ids are `<aor>;@<hash>`, which Asterisk 22's realtime stores with the `;` escaped as
  // `^3B` (`<aor>^3B@<hash>`); escape LIKE's wildcards in the AOR name.
  const aor = id.replace(/[\\%_]/g, (c) => `\\${c}`);
  await tx
    .delete(psContacts)
    .where(
      or(eq(psContacts.endpoint, id), like(psContacts.id, `${aor};@%`), like(psContacts.id, `${aor}^3B@%`)),
    );
}

// ---------------------------------------------------------------- audit

/** How the audit names a key: its label, else its public prefix; null for an unknown key. */
export async function keyLabel(q: Q, keyId: string): Promise<string | null> {
  const [k] = await q
    .select({ label: apiKeys.label, prefix: apiKeys.prefix })
    .from(apiKeys)
    .where(eq(apiKeys.id, keyId));
  return k ? (k.label ?? `key ${k.prefix}`) : null;
}

export async function insertAudit(q: Q, row: typeof pbxAudit.$inferInsert): Promise<void> {
  await q.insert(pbxAudit).values(row);
}

/** The orders the PBX audit trail can be read in (the id breaks ties); newest first unless asked. */
export const PBX_AUDIT_SORTS = {
  at: pbxAudit.at,
  action: pbxAudit.action,
  target: pbxAudit.target,
  result: pbxAudit.result,
};

export interface AuditFilter extends Page {
  order?: ListSort | undefined;
  action?: string | undefined;
  result?: 'ok' | 'error' | undefined;
  target?: string | undefined;
  actor_key_id?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export function listAudit(db: Db, f: AuditFilter) {
  const conds: SQL[] = [];
  if (f.action) conds.push(eq(pbxAudit.action, f.action));
  if (f.result) conds.push(eq(pbxAudit.result, f.result));
  if (f.target) conds.push(eq(pbxAudit.target, f.target));
  if (f.actor_key_id) conds.push(eq(pbxAudit.actorKeyId, f.actor_key_id));
  if (f.from) conds.push(gte(pbxAudit.at, f.from));
  if (f.to) conds.push(lte(pbxAudit.at, f.to));
  return listPage(db, pbxAudit, {
    where: conds.length ? and(...conds) : undefined,
    orderBy: orderOf(PBX_AUDIT_SORTS, pbxAudit.id, f.order, [desc(pbxAudit.at), desc(pbxAudit.id)]),
    limit: f.limit,
    offset: f.offset,
  });
}

// ---------------------------------------------------------------- endpoint records

export async function insertEndpoint(
  tx: Tx,
  record: typeof pbxEndpoints.$inferInsert,
): Promise<EndpointRecord> {
  const [r] = await tx.insert(pbxEndpoints).values(record).returning();
  return r!;
}

export async function updateEndpoint(
  tx: Tx,
  id: string,
  set: Pick<typeof pbxEndpoints.$inferInsert, 'options' | 'ips' | 'contact'>,
): Promise<EndpointRecord> {
  const [r] = await tx.update(pbxEndpoints).set(set).where(eq(pbxEndpoints.id, id)).returning();
  return r!;
}

export async function deleteEndpoint(tx: Tx, id: string): Promise<void> {
  await tx.delete(pbxEndpoints).where(eq(pbxEndpoints.id, id));
}

/**
 * Whom an endpoint serves, as the console names it ("client <name>", "seller <name>", "PBX user"),
 * so the list sorts and filters on what it shows.
 */
const endpointOwner = sql<string>`coalesce(
  'client ' || (select ${clients.name} from ${clients} where ${clients.id} = ${pbxEndpoints.clientId}),
  'seller ' || (select ${sellers.name} from ${sellers} where ${sellers.id} = ${pbxEndpoints.sellerId}),
  case when ${pbxEndpoints.userId} is not null then 'PBX user' else '' end)`;

/** The orders the endpoints list can be read in (the id breaks ties); by name unless asked. */
export const PBX_ENDPOINT_SORTS = {
  endpoint: pbxEndpoints.endpoint,
  kind: pbxEndpoints.kind,
  owner: endpointOwner,
  created: pbxEndpoints.createdAt,
};

export interface EndpointFilter extends Page {
  order?: ListSort | undefined;
  kind?: PbxEndpointKind | undefined;
  sellerId?: string | null | undefined;
  /** Part of the endpoint's name, its SIP username or whom it serves (any case, wildcards literal). */
  q?: string | undefined;
}

/** Provisioned endpoints, each with whom it serves: filtered, ordered and paged in the query. */
export async function listEndpoints(
  db: Db,
  f: EndpointFilter,
): Promise<{ items: Array<EndpointRecord & { owner: string }>; total: number }> {
  const conds: SQL[] = [];
  if (f.kind) conds.push(eq(pbxEndpoints.kind, f.kind));
  if (f.sellerId) conds.push(eq(pbxEndpoints.sellerId, f.sellerId));
  if (f.q) {
    const p = `%${likeLiteral(f.q)}%`;
    conds.push(
      or(ilike(pbxEndpoints.endpoint, p), ilike(pbxEndpoints.username, p), ilike(endpointOwner, p))!,
    );
  }
  const where = conds.length ? and(...conds) : undefined;
  const items = await db
    .select({ ...getTableColumns(pbxEndpoints), owner: endpointOwner })
    .from(pbxEndpoints)
    .where(where)
    .orderBy(
      ...orderOf(PBX_ENDPOINT_SORTS, pbxEndpoints.id, f.order, [
        asc(pbxEndpoints.endpoint),
        asc(pbxEndpoints.id),
      ]),
    )
    .limit(f.limit)
    .offset(f.offset);
  return { items, total: await countWhere(db, pbxEndpoints, where) };
}

/** The clients among `ids` that have an endpoint provisioned here (a client has at most one). */
export async function clientsWithEndpoint(db: Db, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const rows = await db
    .select({ id: pbxEndpoints.clientId })
    .from(pbxEndpoints)
    .where(inArray(pbxEndpoints.clientId, ids));
  return new Set(rows.map((r) => r.id).filter((x): x is string => x !== null));
}

export async function endpointOfClient(db: Db, clientId: string): Promise<EndpointRecord | null> {
  const [r] = await db.select().from(pbxEndpoints).where(eq(pbxEndpoints.clientId, clientId));
  return r ?? null;
}

/** A seller trunk, within one seller when `sellerScope` is given. */
export async function trunk(db: Db, id: string, sellerScope: string | null): Promise<EndpointRecord | null> {
  const conds = [eq(pbxEndpoints.id, id), eq(pbxEndpoints.kind, 'seller_trunk')];
  if (sellerScope) conds.push(eq(pbxEndpoints.sellerId, sellerScope));
  const [r] = await db
    .select()
    .from(pbxEndpoints)
    .where(and(...conds));
  return r ?? null;
}

/** A provisioned endpoint by its name (ps_endpoints.id). */
export async function endpointNamed(db: Db, name: string): Promise<EndpointRecord | null> {
  const [r] = await db.select().from(pbxEndpoints).where(eq(pbxEndpoints.endpoint, name));
  return r ?? null;
}

/** Every provisioned endpoint's name, in order (what an apply checks on each node). */
export async function endpointNames(db: Db): Promise<string[]> {
  const eps = await db
    .select({ endpoint: pbxEndpoints.endpoint })
    .from(pbxEndpoints)
    .orderBy(asc(pbxEndpoints.endpoint));
  return eps.map((e) => e.endpoint);
}

// ---------------------------------------------------------------- routing rows provisioning touches

export async function clientExists(db: Db, clientId: string): Promise<boolean> {
  const [c] = await db.select({ id: clients.id }).from(clients).where(eq(clients.id, clientId));
  return c !== undefined;
}

export async function sellerExists(db: Db, sellerId: string): Promise<boolean> {
  const [s] = await db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, sellerId));
  return s !== undefined;
}

/** Points routing at a client's endpoint: routing dials PJSIP/<name>. */
export async function pointClientAt(tx: Tx, clientId: string, endpoint: string): Promise<void> {
  await tx.update(clients).set({ endpoint }).where(eq(clients.id, clientId));
}

// ---------------------------------------------------------------- PBX users

/** Advisory lock key (any constant bigint) queueing extension allocations. */
const EXTENSION_LOCK = 7_242_001;

/** Queues this transaction behind other extension allocations until it ends. */
export async function lockExtensions(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(${EXTENSION_LOCK})`);
}

/** Extensions in use: our users', and numeric endpoint names already in Asterisk's table. */
export async function usedExtensions(q: Q): Promise<number[]> {
  const users = await q.select({ e: pbxUsers.extension }).from(pbxUsers);
  const eps = await q
    .select({ id: psEndpoints.id })
    .from(psEndpoints)
    .where(sql`${psEndpoints.id} ~ '^[0-9]{1,9}$'`);
  return [...users.map((u) => u.e), ...eps.map((x) => Number(x.id))];
}

export async function insertUser(
  tx: Tx,
  u: { name: string; email: string; extension: number },
): Promise<UserRecord> {
  const [r] = await tx.insert(pbxUsers).values(u).returning();
  return r!;
}

/** The orders the PBX users list can be read in (the id breaks ties); by extension unless asked. */
export const PBX_USER_SORTS = {
  extension: pbxUsers.extension,
  name: pbxUsers.name,
  email: pbxUsers.email,
  created: pbxUsers.createdAt,
};

export interface UserFilter extends Page {
  order?: ListSort | undefined;
  /**
   * Part of the name or email (any case, wildcards literal), or the start of the extension: the
   * extension is the user's SIP username, so "10" finds 1000-1099 and 10.
   */
  q?: string | undefined;
}

export function listUsers(db: Db, f: UserFilter) {
  let where: SQL | undefined;
  if (f.q) {
    const p = likeLiteral(f.q);
    where = or(
      ilike(pbxUsers.name, `%${p}%`),
      ilike(pbxUsers.email, `%${p}%`),
      like(sql`${pbxUsers.extension}::text`, `${p}%`),
    );
  }
  return listPage(db, pbxUsers, {
    where,
    orderBy: orderOf(PBX_USER_SORTS, pbxUsers.id, f.order, [asc(pbxUsers.extension)]),
    limit: f.limit,
    offset: f.offset,
  });
}

export async function user(db: Db, id: string): Promise<UserRecord | null> {
  const [u] = await db.select().from(pbxUsers).where(eq(pbxUsers.id, id));
  return u ?? null;
}

/** Removes a user and its endpoint record (its ps_* rows go through `deleteRows`). */
export async function deleteUser(tx: Tx, id: string): Promise<void> {
  await tx.delete(pbxEndpoints).where(eq(pbxEndpoints.userId, id));
  await tx.delete(pbxUsers).where(eq(pbxUsers.id, id));
}
