// The simulator's CDRs: the record Asterisk's CDR engine (main/cdr.c) posts for a channel when it
// ends, and the cdr_pgsql backend that writes it into a PostgreSQL table. One model of the record,
// emitted as the model event `cdr` (an ast_cdr-shaped object) for every backend that wants it.
//
// What is modelled, as main/cdr.c does it for the calls the simulator carries:
// - start is the channel's creation, answer its first Up, end its hangup; duration and billsec are
//   whole seconds, rounded down (initiatedseconds = no);
// - lastapp/lastdata are the last dialplan application the channel ran that was not empty (Asterisk
//   never takes an empty one, so a caller hung up while in Stasis() keeps `Stasis`);
// - dst/dcontext are where the channel was in the dialplan;
// - in a bridge, the party A of a pair is the channel that was not dialled (else the older one) and
//   the other one its dstchannel; a dialled channel that was never anyone's party B posts nothing;
// - the disposition: ANSWERED when answered, else from the hangup cause (17 BUSY, 34 FAILED or
//   CONGESTION with `congestion = yes`, 3 and 20 FAILED, other causes NO ANSWER; no cause: FAILED);
// - with `unanswered = no` (Asterisk's default) an unanswered record without a party B is dropped;
// - app_dial's dials: the first names the caller's party B at DialBegin, each later one appends a
//   record for the caller, and a DialEnd other than ANSWER ends its record with that disposition.
// Not modelled: the extra records Asterisk forks when a channel changes bridges or parks (one record
// per channel here, its first party B). The accountcode is the channel's (an AMI Originate's
// Account), the peeraccount its party B's when it joined. CDR variables and the
// userfield are what CDR() wrote on the channel (src/simulator/functions.ts).
//
// cdr_pgsql reads its table's columns when it loads and fills each one it knows by name; a field
// that is empty is left out (NULL); times are written as `YYYY-MM-DD HH:MM:SS` in its `timezone`
// (UTC here, as asterisk/cdr_pgsql.conf sets). A failed insert drops the record, as Asterisk does
// after its one reconnect attempt.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import type { SimChannel, SimModel } from './model.ts';

/** The record as Asterisk's backends receive it (struct ast_cdr), times in epoch ms (0: none). */
export interface AsteriskCdr {
  clid: string;
  src: string;
  dst: string;
  dcontext: string;
  channel: string;
  dstchannel: string;
  lastapp: string;
  lastdata: string;
  start: number;
  answer: number;
  end: number;
  duration: number;
  billsec: number;
  disposition: 'ANSWERED' | 'NO ANSWER' | 'BUSY' | 'FAILED' | 'CONGESTION';
  amaflags: string;
  accountcode: string;
  peeraccount: string;
  uniqueid: string;
  linkedid: string;
  userfield: string;
  sequence: number;
  /** The record's variables (CDR(name)=value), present only when some were set. */
  variables?: Record<string, string>;
}

/** cdr.conf [general] and cdr_pgsql.conf [global], the settings the simulator acts on. */
export interface CdrSettings {
  enable: boolean;
  unanswered: boolean;
  congestion: boolean;
  /** cdr_pgsql's table; `schema.table` is accepted as cdr_pgsql does. */
  table: string;
}

/** Reads the settings from an Asterisk configuration folder (Asterisk's defaults where unset). */
export function loadCdrSettings(dir: string): CdrSettings {
  const general = readConf(`${dir}/cdr.conf`).get('general') ?? new Map<string, string>();
  const pg = readConf(`${dir}/cdr_pgsql.conf`).get('global') ?? new Map<string, string>();
  const yes = (v: string | undefined, dflt: boolean) => (v === undefined ? dflt : ast_true(v));
  return {
    enable: yes(general.get('enable'), true),
    unanswered: yes(general.get('unanswered'), false),
    congestion: yes(general.get('congestion'), false),
    table: pg.get('table') ?? 'cdr',
  };
}

/** Asterisk's ast_true: yes, true, y, t, 1, on. */
function ast_true(v: string): boolean {
  return /^(yes|true|y|t|1|on)$/i.test(v.trim());
}

/** An Asterisk .conf file as sections of `key = value` (`;` starts a comment); missing: empty. */
export function readConf(path: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return out;
  }
  let section: Map<string, string> | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|[^\\]);.*$/, '$1').trim();
    const head = /^\[([^\]]+)\]/.exec(line);
    if (head) {
      section = new Map();
      out.set(head[1]!.trim(), section);
      continue;
    }
    const eq = line.indexOf('=');
    if (section && eq > 0)
      section.set(
        line.slice(0, eq).trim(),
        line
          .slice(eq + 1)
          .replace(/^>/, '')
          .trim(),
      );
  }
  return out;
}

/**
 * A dial's end as the record keeps it: its status and, when a status other than ANSWER finalized
 * it, then and party A's answer as it stood then.
 */
interface DialEnd {
  status?: string;
  end?: number;
  answeredAt?: number;
}

/** A record app_dial's further dials append to a caller's (cdr_object_create_and_append). */
interface DialRecord extends DialEnd {
  sequence: number;
  start: number;
  partyB: string;
  partyBAccount: string;
  lastapp: string;
  lastdata: string;
  dst: string;
  dcontext: string;
}

interface Tracked extends DialEnd {
  sequence: number;
  lastapp: string;
  lastdata: string;
  /** Made by a dial (ARI channels/create + dial): OUTGOING and not ORIGINATED in Asterisk's terms. */
  dialed: boolean;
  partyB: string | null;
  /** Party B's account code (the record's peeraccount). */
  partyBAccount?: string;
  /** The peer of the app_dial dial that gave this record its party B. */
  dialPeer?: string;
  /** The records of the caller's later app_dial dials, in the order they began. */
  more: DialRecord[];
}

/**
 * Follows the model's channels and emits `cdr` on the model for each record Asterisk would post.
 * `reset()` forgets every channel (a restart lost them: their records are lost with them).
 */
export function followCdrs(model: SimModel, settings: CdrSettings): { reset(): void } {
  const tracked = new Map<string, Tracked>();
  const reset = () => tracked.clear();
  if (!settings.enable) return { reset };
  let sequence = 0;
  // Asterisk's internal channels (a bridge's announcer or recorder) have no CDR (cdr.c filters them).
  const internal = (c: SimChannel) => Boolean((c as { media?: unknown }).media);
  const of = (c: SimChannel) => {
    let t = tracked.get(c.id);
    if (!t) {
      t = { sequence: sequence++, lastapp: '', lastdata: '', dialed: false, partyB: null, more: [] };
      tracked.set(c.id, t);
    }
    return t;
  };
  // The application a channel runs shows in every snapshot Asterisk publishes; only non-empty ones count.
  const seeApp = (c: SimChannel) => {
    if (!c.dialplan.app_name || internal(c)) return;
    const t = of(c);
    t.lastapp = c.dialplan.app_name;
    t.lastdata = c.dialplan.app_data;
  };
  model.on('channel-created', (c: SimChannel) => {
    if (!internal(c)) of(c);
  });
  model.on('state', seeApp);
  model.on('newexten', seeApp);
  model.on('ari-event', (_app: string, ev: { type: string; channel?: { id: string } }) => {
    if (ev.type !== 'StasisStart' || !ev.channel) return;
    const c = model.channels.get(ev.channel.id);
    if (c) seeApp(c);
  });
  // Dialled by ARI (channels/dial) or by app_dial (a caller named); an originate's channel is not.
  model.on('dial', (c: SimChannel, caller: SimChannel | undefined, status: string) => {
    if (((c.dial && !c.dial.originate) || caller) && !internal(c)) of(c).dialed = true;
    // app_dial's (a caller named, the peer not dialled by ARI).
    if (caller && !c.dial && !internal(caller) && !internal(c)) appDial(of(caller), caller, c, status);
  });
  // app_dial's dials are the caller's records (handle_dial_message): the first DialBegin names the
  // party B of a fresh record; any later one (another destination, or a dial after one that ended)
  // appends a record of its own; a DialEnd other than ANSWER finalizes its record then, with the
  // dial status as its disposition.
  const appDial = (t: Tracked, caller: SimChannel, peer: SimChannel, status: string) => {
    if (status === '') {
      if (!t.partyB && !t.status) {
        t.partyB = peer.name;
        t.partyBAccount = peer.accountcode ?? '';
        t.dialPeer = peer.name;
      } else
        t.more.push({
          sequence: sequence++,
          start: Date.now(),
          partyB: peer.name,
          partyBAccount: peer.accountcode ?? '',
          lastapp: t.lastapp,
          lastdata: t.lastdata,
          dst: caller.dialplan.exten,
          dcontext: caller.dialplan.context,
        });
      return;
    }
    if (status === 'RINGING' || status === 'PROGRESS' || status === 'PROCEEDING') return;
    const rec: DialEnd | undefined =
      t.dialPeer === peer.name && !t.status ? t : t.more.find((r) => r.partyB === peer.name && !r.status);
    if (!rec) return;
    rec.status = status;
    if (status === 'ANSWER') return;
    rec.end = Date.now();
    if (caller.upAt !== undefined) rec.answeredAt = caller.upAt;
  };
  model.on('bridge-enter', (c: SimChannel, bridgeId: string) => {
    const b = model.bridges.get(bridgeId);
    if (!b) return;
    for (const id of b.channels) {
      const other = id === c.id ? undefined : model.channels.get(id);
      if (!other || internal(other) || internal(c)) continue;
      const [a, bParty] = partyA(c, other, of);
      const ta = of(a);
      if (ta.partyB) continue; // its first party B (Asterisk would fork a new record here)
      ta.partyB = bParty.name;
      ta.partyBAccount = bParty.accountcode ?? '';
    }
  });
  // The application at the moment of the hangup (before the channel leaves Stasis).
  model.on('hanging-up', seeApp);
  model.on('channel-destroyed', (c: SimChannel, cause: number) => {
    if (internal(c)) return;
    const t = of(c);
    tracked.delete(c.id);
    // A dialled channel that was never party A of a pair has no record of its own.
    if (t.dialed && !t.partyB) return;
    const now = Date.now();
    // The chain in order: the channel's own record, then those its later dials appended.
    const chain: DialRecord[] = [
      {
        ...t,
        start: Date.parse(c.creationtime) || now,
        partyB: t.partyB ?? '',
        partyBAccount: t.partyBAccount ?? '',
        dst: c.dialplan.exten,
        dcontext: c.dialplan.context,
      },
      ...t.more,
    ];
    for (const r of chain) {
      const end = r.end ?? now;
      // Party A's answer as it stood when the record ended (never before it began).
      const upAt = r.end === undefined ? c.upAt : r.answeredAt;
      const answer = upAt === undefined ? 0 : Math.max(upAt, r.start);
      const disposition =
        r.status && r.status !== 'ANSWER'
          ? dialDisposition(r.status, settings.congestion)
          : answer
            ? 'ANSWERED'
            : dispositionOf(cause, settings.congestion);
      // post_cdr: "for people who don't want to see unanswered single-channel events".
      if (!settings.unanswered && disposition !== 'ANSWERED' && disposition !== 'CONGESTION' && !r.partyB)
        continue;
      const { name, number } = c.caller;
      const cdr: AsteriskCdr = {
        clid: name && number ? `"${name}" <${number}>` : name || number,
        src: number,
        dst: r.dst,
        dcontext: r.dcontext,
        channel: c.name,
        dstchannel: r.partyB,
        lastapp: r.lastapp,
        lastdata: r.lastdata,
        start: r.start,
        answer,
        end,
        duration: Math.floor((end - r.start) / 1000),
        billsec: answer ? Math.floor((end - answer) / 1000) : 0,
        disposition,
        amaflags: 'DOCUMENTATION',
        accountcode: c.accountcode ?? '',
        peeraccount: r.partyBAccount,
        uniqueid: c.id,
        linkedid: c.linkedid ?? c.id,
        userfield: c.cdr?.userfield ?? '',
        sequence: r.sequence,
        ...(c.cdr?.vars.size ? { variables: Object.fromEntries(c.cdr.vars) } : {}),
      };
      model.emit('cdr', cdr);
    }
  });
  return { reset };
}

/** cdr_object_pick_party_a: not dialled beats dialled; else the older channel. */
function partyA(x: SimChannel, y: SimChannel, of: (c: SimChannel) => Tracked): [SimChannel, SimChannel] {
  const dx = of(x).dialed;
  const dy = of(y).dialed;
  if (dx !== dy) return dx ? [y, x] : [x, y];
  return Date.parse(x.creationtime) <= Date.parse(y.creationtime) ? [x, y] : [y, x];
}

/** dial_status_to_disposition: the disposition a dial's end gives its record. */
export function dialDisposition(status: string, congestion: boolean): AsteriskCdr['disposition'] {
  if (status === 'ANSWER') return 'ANSWERED';
  if (status === 'BUSY') return 'BUSY';
  if (status === 'CANCEL' || status === 'NOANSWER') return 'NO ANSWER';
  if (status === 'CONGESTION') return congestion ? 'CONGESTION' : 'FAILED';
  return 'FAILED';
}

/** cdr_object_finalize with no answer: the disposition the hangup cause gives. */
export function dispositionOf(cause: number, congestion: boolean): AsteriskCdr['disposition'] {
  switch (cause) {
    case 0:
      return 'FAILED';
    case 17:
      return 'BUSY';
    case 34:
      return congestion ? 'CONGESTION' : 'FAILED';
    case 3:
    case 20:
      return 'FAILED';
    default:
      // NORMAL_CLEARING and NO_ANSWER say NO ANSWER; any other cause leaves the disposition unset,
      // which Asterisk also prints as NO ANSWER.
      return 'NO ANSWER';
  }
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, as cdr_pgsql writes a time with `timezone=UTC`. */
export function pgsqlTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/**
 * cdr_pgsql: writes each record into the table, filling the columns the table has (read once, at
 * load, as the module does). Resolves to a handle whose `stop()` waits for writes in flight.
 */
export async function pgsqlBackend(
  model: SimModel,
  databaseUrl: string,
  table: string,
): Promise<{ stop(): Promise<void>; written: () => number; dropped: () => number }> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const [schema, name] = table.includes('.') ? table.split('.', 2) : [null, table];
  const cols = await sql<{ name: string }[]>`
    select column_name as name from information_schema.columns
     where table_name = ${name!} and table_schema = ${schema ?? sql`current_schema()`}`;
  if (!cols.length) {
    await sql.end();
    // cdr_pgsql declines to load: "Failed to query database columns. No columns found, does the table exist?"
    throw new Error(`cdr_pgsql: no columns found for table ${table}: does the table exist?`);
  }
  const have = new Set(cols.map((c) => c.name));
  let written = 0;
  let dropped = 0;
  const inFlight = new Set<Promise<void>>();
  const onCdr = (cdr: AsteriskCdr) => {
    const row: Record<string, string | number> = {};
    for (const [k, v] of Object.entries(cdr) as Array<[keyof AsteriskCdr, string | number]>) {
      const col = k === 'start' && !have.has('start') && have.has('calldate') ? 'calldate' : k;
      if (!have.has(col)) continue;
      if (k === 'start' || k === 'answer' || k === 'end') {
        if (v) row[col] = pgsqlTime(v as number);
      } else if (v !== '') row[col] = v;
    }
    const p = sql`insert into ${sql(schema ? [schema, name!].join('.') : name!)} ${sql(row)}`.then(
      () => void written++,
      () => void dropped++,
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  };
  model.on('cdr', onCdr);
  return {
    written: () => written,
    dropped: () => dropped,
    async stop() {
      model.off('cdr', onCdr);
      await Promise.all(inFlight);
      await sql.end({ timeout: 1 });
    },
  };
}
