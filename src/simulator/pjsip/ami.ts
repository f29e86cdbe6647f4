// The AMI events res_pjsip sends for PJSIPShowEndpoint and PJSIPShowEndpoints, built from the
// directory's objects. Pure: what an endpoint's objects and its live state print as.
//
// PJSIPShowEndpoint (pjsip_configuration.c ami_show_endpoint) sends EndpointDetail first, then what
// each registered endpoint formatter adds, in registration order: AuthDetail for each inbound then
// outbound auth (config_auth.c), TransportDetail when the endpoint names a transport
// (config_transport.c), AorDetail for each AOR (location.c), ContactStatusDetail for each contact
// of each AOR (pjsip_options.c), IdentifyDetail for each identify naming the endpoint
// (res_pjsip_endpoint_identifier_ip). EndpointDetailComplete counts them all, EndpointDetail
// included.
import type { Fields } from '../ami/protocol.ts';
import { type Contact, type EndpointObjects, TRANSPORTS } from './directory.ts';
import { astTrue, OBJECT_FIELDS, type Row, renderFields } from './sorcery.ts';

/** What res_pjsip knows of an endpoint at the moment: device state and channels. */
export interface Live {
  deviceState: string;
  activeChannels: number;
  reachable: boolean;
}

const head = (event: string, type: string, name: string): Fields => [
  ['Event', event],
  ['ObjectType', type],
  ['ObjectName', name],
];

/** `aor/uri,` for each contact: EndpointList's Contacts and (without the last comma) AorDetail's. */
const contactList = (contacts: Contact[]) => contacts.map((c) => `${c.aor}/${c.uri},`).join('');

/** An identify's `match` as ast_ha_join prints it: address/netmask for each entry. */
export function haJoin(match: string): string {
  return match
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean)
    .map((m) => {
      const [addr = '', bits] = m.split('/');
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(addr)) return m;
      const n = bits === undefined ? 32 : /^\d+$/.test(bits) ? Number(bits) : null;
      if (n === null) return m; // already a dotted netmask
      const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
      const octets = [24, 16, 8, 0].map((s) => (mask >>> s) & 255);
      const net = addr.split('.').map((o, i) => Number(o) & octets[i]!);
      return `${net.join('.')}/${octets.join('.')}`;
    })
    .join(',');
}

function contactStatus(c: Contact, aor: Row | undefined, endpoint: string, live: Live): Fields {
  const r = c.row;
  const qualified = Number(aor?.qualify_frequency ?? 0) > 0;
  // An unqualified AOR's contacts are NonQualified; a qualified one's answer OPTIONS or not.
  const status = !qualified ? 'NonQualified' : live.reachable ? 'Reachable' : 'Unreachable';
  return [
    ['Event', 'ContactStatusDetail'],
    ['AOR', c.aor],
    ['URI', c.uri],
    ['UserAgent', r.user_agent ?? ''],
    ['RegExpire', r.expiration_time ?? '0'],
    ...((r.via_addr
      ? [['ViaAddress', r.via_port ? `${r.via_addr}:${r.via_port}` : r.via_addr]]
      : []) as Fields),
    ...((r.call_id ? [['CallID', r.call_id]] : []) as Fields),
    ['Status', status],
    // The simulator's qualify answers at once: a reachable contact's round trip is a nominal 1 ms.
    ['RoundtripUsec', status === 'Reachable' ? '1000' : 'N/A'],
    ['EndpointName', endpoint],
    ['ID', c.id],
    ['AuthenticateQualify', astTrue(r.authenticate_qualify ?? '') ? 1 : 0],
    ['OutboundProxy', r.outbound_proxy ?? ''],
    ['Path', r.path ?? ''],
    ['QualifyFrequency', Number(r.qualify_frequency ?? 0)],
    ['QualifyTimeout', Number(r.qualify_timeout ?? 3).toFixed(3)],
    ['Qualify2xxOnly', astTrue(r.qualify_2xx_only ?? '') ? 1 : 0],
  ];
}

/**
 * The list items of PJSIPShowEndpoint (without the ActionID, which the session adds), or an error
 * message when a named transport does not exist (Asterisk then sends that error, then "Unable to
 * format endpoint", inside the list, and still completes it).
 */
export function endpointDetail(o: EndpointObjects, live: Live): { items: Fields[]; errors: string[] } {
  const name = o.endpoint.id ?? '';
  const items: Fields[] = [
    [
      ...head('EndpointDetail', 'endpoint', name),
      ...renderFields(OBJECT_FIELDS.endpoint, o.endpoint),
      ['DeviceState', live.deviceState],
      ['ActiveChannels', live.activeChannels],
    ],
  ];
  const errors: string[] = [];
  for (const a of [...o.auths, ...o.outboundAuths])
    items.push([
      ...head('AuthDetail', 'auth', a.id ?? ''),
      ...renderFields(OBJECT_FIELDS.auth, a),
      ['EndpointName', name],
    ]);
  const transport = o.endpoint.transport?.trim() ?? '';
  if (transport) {
    const t = TRANSPORTS[transport];
    if (!t) errors.push(`Unable to retrieve transport ${transport}\n`, `Unable to format endpoint ${name}\n`);
    else
      items.push([
        ...head('TransportDetail', 'transport', transport),
        ...renderFields(OBJECT_FIELDS.transport, t),
        ['EndpointName', name],
      ]);
  }
  // A failing formatter stops the ones after it (ast_sip_format_endpoint_ami returns at the first).
  if (errors.length) return { items, errors };
  for (const a of o.aors) {
    const mine = o.contacts.filter((c) => c.aor === a.id);
    items.push([
      ...head('AorDetail', 'aor', a.id ?? ''),
      ...renderFields(OBJECT_FIELDS.aor, { ...a, contact: contactList(mine).slice(0, -1) }),
      ['TotalContacts', mine.length],
      ['ContactsRegistered', mine.filter((c) => !c.permanent).length],
      ['EndpointName', name],
    ]);
  }
  for (const c of o.contacts)
    items.push(
      contactStatus(
        c,
        o.aors.find((a) => a.id === c.aor),
        name,
        live,
      ),
    );
  for (const i of o.identifies)
    items.push([
      ...head('IdentifyDetail', 'identify', i.id ?? ''),
      ...renderFields(OBJECT_FIELDS.identify, { ...i, match: haJoin(i.match ?? '') }),
      ['EndpointName', name],
    ]);
  return { items, errors };
}

/** One EndpointList item of PJSIPShowEndpoints (format_ami_endpoints). */
export function endpointListItem(o: EndpointObjects, live: Live): Fields {
  const e = o.endpoint;
  const list = (v: string | undefined) =>
    (v ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)
      .join(',');
  return [
    ...head('EndpointList', 'endpoint', e.id ?? ''),
    ['Transport', e.transport ?? ''],
    ['Aor', e.aors ?? ''],
    ['Auths', list(e.auth)],
    ['OutboundAuths', list(e.outbound_auth)],
    // One Contacts line per AOR (none when the endpoint has no AOR).
    ...o.aors.map(
      (a) => ['Contacts', contactList(o.contacts.filter((c) => c.aor === a.id))] as [string, string],
    ),
    ['DeviceState', live.deviceState],
    ['ActiveChannels', live.activeChannels],
  ];
}
