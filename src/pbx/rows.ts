// ARA table writers: the exact ps_* rows each kind of endpoint needs (pure builders), and writing or
// removing them inside the caller's transaction.
import { eq, like, or } from 'drizzle-orm';
import type { Db } from '../platform/db.ts';
import { psAors, psAuths, psContacts, psEndpointIdIps, psEndpoints } from '../db/schema/asterisk.ts';
import { type EndpointOptions, endpointColumns, type OptionDefaults } from './options.ts';

export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type EndpointRow = typeof psEndpoints.$inferInsert;
type AuthRow = typeof psAuths.$inferInsert;
type AorRow = typeof psAors.$inferInsert;
type IdentifyRow = typeof psEndpointIdIps.$inferInsert;

export interface EndpointRows {
  endpoint: EndpointRow;
  auth: AuthRow | null;
  aor: AorRow | null;
  identifies: IdentifyRow[];
}

type Raw = Record<string, string | number | boolean | null>;

const endpointRow = (
  id: string,
  o: EndpointOptions,
  raw: Raw,
  d: OptionDefaults,
  extra: Partial<EndpointRow>,
) => ({ ...endpointColumns(o, raw, d), ...extra, id }) as EndpointRow;

const identifyRows = (id: string, cidrs: string[]): IdentifyRow[] =>
  cidrs.map((match, i) => ({ id: `${id}-ip${i + 1}`, endpoint: id, match }));

/** A client (or PBX user) that registers: endpoint + userpass auth + AOR that takes its contacts. */
export function registrationRows(
  id: string,
  cred: { username: string; password: string },
  o: EndpointOptions,
  raw: Raw,
  d: OptionDefaults,
  extra: Partial<EndpointRow> = {},
): EndpointRows {
  return {
    endpoint: endpointRow(id, o, raw, d, { aors: id, auth: id, ...extra }),
    auth: { id, authType: 'userpass', username: cred.username, password: cred.password },
    aor: {
      id,
      maxContacts: o.max_contacts ?? 1,
      removeExisting: 'yes',
      qualifyFrequency: o.qualify_frequency ?? 60,
    },
    identifies: [],
  };
}

/** An IP-authenticated trunk we dial: identified by its addresses, AOR with a static contact. */
export function ipTrunkRows(
  id: string,
  cidrs: string[],
  contact: string,
  o: EndpointOptions,
  raw: Raw,
  d: OptionDefaults,
): EndpointRows {
  return {
    endpoint: endpointRow(id, o, raw, d, { aors: id, identifyBy: 'ip' }),
    auth: null,
    aor: { id, contact, maxContacts: o.max_contacts ?? 1, qualifyFrequency: o.qualify_frequency ?? 60 },
    identifies: identifyRows(id, cidrs),
  };
}

/** An inbound-only trunk (a seller): identified by its addresses, no AOR, so nothing can dial it. */
export function inboundTrunkRows(
  id: string,
  cidrs: string[],
  o: EndpointOptions,
  raw: Raw,
  d: OptionDefaults,
): EndpointRows {
  return {
    endpoint: endpointRow(id, o, raw, d, { identifyBy: 'ip' }),
    auth: null,
    aor: null,
    identifies: identifyRows(id, cidrs),
  };
}

export async function writeRows(tx: Tx, r: EndpointRows): Promise<void> {
  await tx.insert(psEndpoints).values(r.endpoint);
  if (r.auth) await tx.insert(psAuths).values(r.auth);
  if (r.aor) await tx.insert(psAors).values(r.aor);
  if (r.identifies.length) await tx.insert(psEndpointIdIps).values(r.identifies);
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
  return a?.u && a.p ? { username: a.u, password: a.p } : null;
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
