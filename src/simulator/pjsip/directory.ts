// Where the simulator's res_pjsip finds its objects: endpoints, auths, AORs, contacts and
// identifies in the realtime tables (ps_*; read on every use, as with no sorcery cache), the
// endpoints configured on the command line (static pjsip.conf endpoints), and the one transport of
// pjsip.conf. It also keeps what res_pjsip keeps in memory: the persistent endpoint of every
// realtime endpoint it has loaded since start, which ARI goes on listing (offline once its row is
// gone) until Asterisk restarts.
import { createHash } from 'node:crypto';
import type postgres from 'postgres';
import type { Row } from './sorcery.ts';

export type EndpointResult = 'answer' | 'busy' | 'noanswer' | 'congestion' | 'unavailable';

/** A contact as res_pjsip holds it: registered (a ps_contacts row) or permanent (aor `contact`). */
export interface Contact {
  id: string;
  aor: string;
  uri: string;
  row: Row;
  permanent: boolean;
}

export interface EndpointObjects {
  endpoint: Row;
  auths: Row[];
  outboundAuths: Row[];
  aors: Row[];
  contacts: Contact[];
  identifies: Row[];
}

/** The transport of the simulator's pjsip.conf (it listens on loopback, as the simulator does). */
export const TRANSPORTS: Record<string, Row> = {
  'transport-udp': { protocol: 'udp', bind: '127.0.0.1:5060' },
};

// res_config_pgsql hands values over with `^XX` escapes decoded (ast_realtime_decode_chunk).
const decode = (v: string) =>
  v.replace(/\^([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

const toRow = (r: Record<string, unknown>): Row => {
  const out: Row = {};
  for (const [k, v] of Object.entries(r)) if (v !== null && v !== undefined) out[k] = decode(String(v));
  return out;
};

const names = (v: string | undefined) =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * A command-line endpoint has no rows: it stands for a pjsip.conf endpoint on the one transport,
 * with an AOR of its own name holding one static contact.
 */
const configuredRow = (name: string): Row => ({ id: name, transport: 'transport-udp', aors: name });
const configuredAor = (name: string): Row => ({ id: name, contact: `sip:${name}@127.0.0.1:5060` });

/** The res_pjsip object types ARI's dynamic configuration reaches, and their realtime tables. */
export type SorceryType = 'endpoint' | 'aor' | 'auth' | 'identify';
const TABLES: Record<SorceryType, string> = {
  endpoint: 'ps_endpoints',
  aor: 'ps_aors',
  auth: 'ps_auths',
  identify: 'ps_endpoint_id_ips',
};

export class PjsipDirectory {
  /** Realtime endpoints loaded since start (res_pjsip's persistent endpoints). */
  readonly persistent = new Set<string>();

  constructor(
    private readonly sql: postgres.Sql | null,
    readonly configured: Map<string, { result?: EndpointResult }>,
    /** The states of the channels on an endpoint now. */
    private readonly channelsOn: (name: string) => string[] = () => [],
  ) {}

  private async rows(q: () => Promise<Record<string, unknown>[]>): Promise<Row[]> {
    if (!this.sql) return [];
    try {
      return (await q()).map(toRow);
    } catch {
      return []; // no table, or the database is unreachable: nothing found, as Asterisk's realtime
    }
  }

  /** At start res_pjsip loads every endpoint (to qualify their AORs): all become persistent. */
  async loadAll(): Promise<string[]> {
    const sql = this.sql;
    const rows = sql ? await this.rows(() => sql`select id from ps_endpoints order by id`) : [];
    for (const r of rows) if (r.id) this.persistent.add(r.id);
    return [...new Set([...this.configured.keys(), ...rows.map((r) => r.id ?? '')])].filter(Boolean).sort();
  }

  /** The endpoint's own row (realtime first, then the command line), or null: no such endpoint. */
  async endpointRow(name: string): Promise<Row | null> {
    const sql = this.sql;
    const [row] = sql ? await this.rows(() => sql`select * from ps_endpoints where id = ${name}`) : [];
    if (row) {
      this.persistent.add(name);
      return row;
    }
    return this.configured.has(name) ? configuredRow(name) : null;
  }

  /**
   * The endpoint's `accountcode` option, which chan_pjsip gives every channel it makes for the
   * endpoint (ast_channel_alloc's account code: already in the channel's first snapshot).
   */
  async accountcode(name: string): Promise<string> {
    return (await this.endpointRow(name))?.accountcode ?? '';
  }

  private async aor(id: string, fromConfig: boolean): Promise<Row | null> {
    const sql = this.sql;
    if (fromConfig) return configuredAor(id);
    const [row] = sql ? await this.rows(() => sql`select * from ps_aors where id = ${id}`) : [];
    return row ?? null;
  }

  /** Every object PJSIPShowEndpoint reports for an endpoint, or null when it does not exist. */
  async objects(name: string): Promise<EndpointObjects | null> {
    const endpoint = await this.endpointRow(name);
    if (!endpoint) return null;
    const sql = this.sql;
    const fromConfig = !this.persistent.has(name) && this.configured.has(name);
    const auth = async (ids: string[]) =>
      sql && ids.length
        ? await this.rows(() => sql`select * from ps_auths where id = any(${sql.array(ids)})`)
        : [];
    const ordered = (ids: string[], rows: Row[]) =>
      ids.map((id) => rows.find((r) => r.id === id)).filter((r): r is Row => !!r);
    const inIds = names(endpoint.auth);
    const outIds = names(endpoint.outbound_auth);
    const aors: Row[] = [];
    for (const id of names(endpoint.aors)) {
      const a = await this.aor(id, fromConfig);
      if (a) aors.push(a);
    }
    const contacts: Contact[] = [];
    for (const a of aors) contacts.push(...(await this.contactsOf(a)));
    const identifies = sql
      ? await this.rows(() => sql`select * from ps_endpoint_id_ips where endpoint = ${name} order by id`)
      : [];
    return {
      endpoint,
      auths: ordered(inIds, await auth(inIds)),
      outboundAuths: ordered(outIds, await auth(outIds)),
      aors,
      contacts,
      identifies,
    };
  }

  /** An AOR's contacts as res_pjsip lists them: registered (ps_contacts) and permanent (aor `contact`). */
  /**
   * A res_pjsip sorcery object by type and id, as ARI's dynamic configuration retrieves it: the
   * realtime row, else the command line's endpoint or AOR; null when there is none.
   */
  async sorceryObject(type: SorceryType, id: string): Promise<Row | null> {
    const sql = this.sql;
    const table = TABLES[type];
    const [row] = sql ? await this.rows(() => sql`select * from ${sql(table)} where id = ${id}`) : [];
    if (row) {
      if (type === 'endpoint') this.persistent.add(id);
      return row;
    }
    if (type === 'endpoint' && this.configured.has(id)) return configuredRow(id);
    if (type === 'aor' && this.configured.has(id)) return configuredAor(id);
    return null;
  }

  /**
   * Creates or updates a realtime object with the fields given (res_sorcery_realtime writes through
   * res_config_pgsql). False when it cannot be written: no database (pjsip.conf is read-only to
   * sorcery) or the database refused.
   */
  async storeSorceryObject(type: SorceryType, id: string, fields: Row, create: boolean): Promise<boolean> {
    const sql = this.sql;
    if (!sql) return false;
    const table = TABLES[type];
    try {
      if (create) await sql`insert into ${sql(table)} ${sql({ ...fields, id })}`;
      else if (Object.keys(fields).length)
        await sql`update ${sql(table)} set ${sql(fields)} where id = ${id}`;
      if (type === 'endpoint') this.persistent.add(id);
      return true;
    } catch {
      return false;
    }
  }

  /** Deletes a realtime object; false when it cannot be (no database, or refused). */
  async deleteSorceryObject(type: SorceryType, id: string): Promise<boolean> {
    const sql = this.sql;
    if (!sql) return false;
    try {
      return (await sql`delete from ${sql(TABLES[type])} where id = ${id}`).count > 0;
    } catch {
      return false;
    }
  }

  async contactsOf(aor: Row): Promise<Contact[]> {
    const sql = this.sql;
    const id = aor.id ?? '';
    const registered = sql
      ? await this.rows(
          () =>
            sql`select * from ps_contacts where starts_with(id, ${`${id}^3B@`}) or starts_with(id, ${`${id};@`}) order by id`,
        )
      : [];
    // A permanent contact's id is `<aor>@@<md5 of its uri>` (location.c permanent_uri_handler).
    const permanent = names(aor.contact).map((uri) => ({
      id: `${id}@@${createHash('md5').update(uri).digest('hex')}`,
      aor: id,
      uri,
      row: {},
      permanent: true,
    }));
    // One container sorted by contact id holds both kinds.
    return [
      ...registered.map((r) => ({ id: r.id ?? '', aor: id, uri: r.uri ?? '', row: r, permanent: false })),
      ...permanent,
    ].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * Reachable as res_pjsip's qualify sees it: a command-line behaviour `unavailable` is a contact
   * that never answers; otherwise an endpoint with at least one contact (registered or static) is
   * reachable and one with none is not.
   */
  reachable(name: string, o: EndpointObjects | null): boolean {
    const online = this.configured.get(name)?.result !== 'unavailable' && !!o && o.contacts.length > 0;
    this.online.set(name, online);
    return online;
  }

  /** Each endpoint's state as last found (the persistent endpoint's online/offline). */
  private readonly online = new Map<string, boolean>();

  /**
   * Whether the endpoint is online, as its persistent endpoint last recorded it: found reachable
   * when last looked at, or a command-line endpoint (its static contact) not `unavailable`.
   */
  isOnline(name: string): boolean {
    return (
      this.online.get(name) ??
      (this.configured.has(name) && this.configured.get(name)?.result !== 'unavailable')
    );
  }

  /**
   * Device state and channel count as chan_pjsip reports them: Unavailable when unreachable, else
   * from its channels (In use with one up, Ringing while they ring, Not in use with none).
   */
  live(name: string, o: EndpointObjects | null) {
    const states = this.channelsOn(name);
    const reachable = this.reachable(name, o);
    const deviceState = !reachable
      ? 'Unavailable'
      : states.length === 0
        ? 'Not in use'
        : states.every((s) => s === 'Ringing' || s === 'Ring')
          ? 'Ringing'
          : 'In use';
    return { deviceState, activeChannels: states.length, reachable };
  }

  /** A PJSIP endpoint that can be dialled now (also loads it, as a dial does). */
  async dialable(name: string): Promise<boolean> {
    if (this.configured.has(name)) return true;
    return this.reachable(name, await this.objects(name));
  }
}
