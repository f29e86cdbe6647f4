// What res_pjsip_registrar and res_pjsip's contact tracking do when a phone registers or its
// registration ends, for tests that stand in for the phone (the simulator has no SIP): the contact
// is written to (or removed from) `ps_contacts` as Asterisk's realtime stores it, and the state
// changes are published as res_pjsip publishes them (pjsip_options.c, pjsip_configuration.c):
// the contact's status (AMI ContactStatus, ARI ContactStatusChange: `NonQualified` for a new
// contact, whose AOR qualifies nothing here, `Removed` for one gone), then, when the endpoint goes
// online or offline, its new state (ARI EndpointStateChange), AMI PeerStatus / ARI PeerStatusChange
// (`Reachable`, `Unreachable`) and its device's state (AMI DeviceStateChange, ARI
// DeviceStateChanged: NOT_INUSE, UNAVAILABLE). A registration refreshed sends nothing
// (send_contact_status_on_update_registration is off by default).
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import type { SimModel } from '../model.ts';

export interface Registration {
  aor: string;
  /** The contact URI the phone registered (`sip:1001@192.0.2.10:5060`). */
  uri: string;
  /** The endpoint the AOR belongs to (default: the AOR's name, as the project provisions them). */
  endpoint?: string;
  /** Seconds until the registration expires and res_pjsip removes the contact (default 3600). */
  expiresS?: number;
}

/** A contact's status change, as the model publishes it to AMI and ARI. */
export interface ContactStatus {
  uri: string;
  status: 'NonQualified' | 'Removed';
  aor: string;
  endpoint: string;
  roundtripUsec: string;
}

/** location.c names a contact `<aor>;@<md5 of its uri>`; realtime stores the `;` as `^3B`. */
export const contactId = (aor: string, uri: string) =>
  `${aor}^3B@${createHash('md5').update(uri).digest('hex')}`;

const expiries = new Map<string, NodeJS.Timeout>();

/** The endpoint goes online or offline: its snapshot, PeerStatus, then its device's state. */
async function endpointState(model: SimModel, endpoint: string): Promise<void> {
  const was = model.pjsip.isOnline(endpoint);
  const online = model.pjsip.reachable(endpoint, await model.pjsip.objects(endpoint));
  if (online === was) return;
  model.emit('endpoint-state', endpoint);
  model.emit('peer-status', endpoint, online ? 'Reachable' : 'Unreachable');
  model.emit('device-state', `PJSIP/${endpoint}`);
}

/** A phone registers `uri` to `aor`: the contact row written; a new one published. Its id. */
export async function registerContact(model: SimModel, sql: postgres.Sql | null, r: Registration) {
  if (!sql) throw new Error('registering a contact needs the simulator started with a database');
  const endpoint = r.endpoint ?? r.aor;
  const id = contactId(r.aor, r.uri);
  const expiresS = r.expiresS ?? 3600;
  const expiration = Math.floor(Date.now() / 1000) + expiresS;
  const [existing] = await sql`select id from ps_contacts where id = ${id}`;
  await sql`insert into ps_contacts (id, uri, endpoint, expiration_time, qualify_frequency)
    values (${id}, ${r.uri}, ${endpoint}, ${expiration}, 0)
    on conflict (id) do update set uri = excluded.uri, expiration_time = excluded.expiration_time`;
  clearTimeout(expiries.get(id));
  const t = setTimeout(() => void unregisterContact(model, sql, r).catch(() => {}), expiresS * 1000);
  t.unref();
  expiries.set(id, t);
  if (!existing) {
    const status: ContactStatus = {
      uri: r.uri,
      status: 'NonQualified',
      aor: r.aor,
      endpoint,
      roundtripUsec: '0',
    };
    model.emit('contact-status', status);
  }
  await endpointState(model, endpoint);
  return id;
}

/** The registration ends (unregistered, or expired): the contact removed and published. */
export async function unregisterContact(model: SimModel, sql: postgres.Sql | null, r: Registration) {
  if (!sql) throw new Error('unregistering a contact needs the simulator started with a database');
  const endpoint = r.endpoint ?? r.aor;
  const id = contactId(r.aor, r.uri);
  clearTimeout(expiries.get(id));
  expiries.delete(id);
  const gone = await sql`delete from ps_contacts where id = ${id} returning id`;
  if (!gone.length) return false;
  const status: ContactStatus = { uri: r.uri, status: 'Removed', aor: r.aor, endpoint, roundtripUsec: '0' };
  model.emit('contact-status', status);
  await endpointState(model, endpoint);
  return true;
}
