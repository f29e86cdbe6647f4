// The exact ps_* rows (Asterisk's realtime tables) each kind of endpoint needs: pure builders.
// repository.ts writes them.
import type { psAors, psAuths, psEndpointIdIps, psEndpoints } from '../db/schema/asterisk.ts';
import { type EndpointOptions, endpointColumns, type OptionDefaults } from './options.ts';

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
