// AMI's wire pieces: a packet of `Key: Value` lines, a channel's snapshot fields, and the POSIX
// regexes session filters are written in.
import type { SimBridge, SimChannel } from '../model.ts';

export type Fields = Array<[string, string | number]>;

/** `Key: Value` lines, each ended by CRLF: a packet without its closing blank line. */
export const lines = (fields: Fields): string => {
  let out = '';
  for (const [k, v] of fields) out += `${k}: ${v}\r\n`;
  return out;
};

export const packet = (fields: Fields) => (fields.length ? `${lines(fields)}\r\n` : '\r\n\r\n');

/**
 * Manager event classes (include/asterisk/manager.h EVENT_FLAG_*), by the labels manager.conf,
 * `Events`/`EventMask` and every event's `Privilege` line use. `all` is INT_MAX, every class.
 */
export const EVENT_CLASS: Record<string, number> = {
  system: 1 << 0,
  call: 1 << 1,
  log: 1 << 2,
  verbose: 1 << 3,
  command: 1 << 4,
  agent: 1 << 5,
  user: 1 << 6,
  config: 1 << 7,
  dtmf: 1 << 8,
  reporting: 1 << 9,
  cdr: 1 << 10,
  dialplan: 1 << 11,
  originate: 1 << 12,
  agi: 1 << 13,
  cc: 1 << 15,
  aoc: 1 << 16,
  test: 1 << 17,
  security: 1 << 18,
  message: 1 << 30,
  all: 0x7fffffff,
  none: 0,
};

/** The classes named in a comma list (get_perm: exact, case-sensitive items; others count nothing). */
export const classMask = (list: string): number =>
  list.split(',').reduce((m, label) => m | (EVENT_CLASS[label] ?? 0), 0);

/**
 * An `Events` / `EventMask` value as manager.c's strings_to_mask reads it: empty is invalid (-1),
 * digits are the mask itself, a false word (no, off, ...) is none, a true word (yes, on, ...) is
 * every class, anything else a comma list of class names.
 */
export function eventMask(value: string): number {
  if (value === '') return -1;
  if (/^\d+$/.test(value)) return Number.parseInt(value, 10) | 0;
  if (/^(no|false|n|f|0|off)$/i.test(value)) return 0;
  if (/^(yes|true|y|t|1|on)$/i.test(value)) return EVENT_CLASS.all!;
  return getPerm(value);
}

/**
 * manager.c's get_perm: every class whose name ast_instring finds in the comma list. Its match is
 * looser than a list's items: an item followed by a comma matches a name it begins (`sys,` is
 * system, `c,` every class starting with c, an empty item every class, `all` included), only the
 * last item must be the whole name, and an empty last item (a trailing comma) ends the list.
 */
export function getPerm(list: string): number {
  let mask = 0;
  for (const [label, num] of Object.entries(EVENT_CLASS)) if (inString(list, label)) mask |= num;
  return mask;
}

/** ast_instring(bigstr, smallstr, ','), as manager.c writes it (strncmp over the item's length). */
function inString(big: string, small: string): boolean {
  let val = 0;
  for (;;) {
    const next = big.indexOf(',', val);
    if (next < 0) return big.slice(val) === small;
    const item = big.slice(val, next);
    if (small.slice(0, item.length) === item) return true;
    val = next + 1;
    if (val >= big.length) return false;
  }
}

/** ast_escape_c: a value with C's escapes, as VarSet prints it (a line break cannot end the line). */
export const escapeC = (v: string): string => {
  let out = '';
  for (const ch of v) out += C_ESCAPES[ch] ?? ch;
  return out;
};

const C_ESCAPES: Record<string, string> = {
  [String.fromCharCode(7)]: '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '\\': '\\\\',
  "'": "\\'",
  '"': '\\"',
  '?': '\\?',
};

export const stateCode = (s: SimChannel['state']) =>
  s === 'Busy' ? 7 : s === 'Up' ? 6 : s === 'Ringing' ? 5 : s === 'Ring' ? 4 : 0;

/** Fields with a prefix on every name (`Dest`, `Transferer`, `LocalOne`, ...). */
export const prefixed = (prefix: string, fields: Fields): Fields =>
  fields.map(([k, v]) => [`${prefix}${k}`, v]);

/** A bridge's state as AMI events carry it (ast_manager_build_bridge_state_string). */
export const bridgeFields = (b: SimBridge, count: number): Fields => [
  ['BridgeUniqueid', b.id],
  // A basic bridge (app_dial's) has no creator and no video mode; a Stasis one has both.
  ['BridgeType', b.basic ? 'basic' : 'stasis'],
  ['BridgeTechnology', b.technology],
  ['BridgeCreator', b.basic ? '<unknown>' : 'Stasis'],
  ['BridgeName', b.name || '<unknown>'],
  ['BridgeNumChannels', count],
  ['BridgeVideoSourceMode', b.basic ? 'none' : 'talker'],
];

/** A channel's snapshot as AMI events carry it (prefix `Dest` for the dialled side, ...). */
export const snapshot = (c: SimChannel): Fields => [
  ['Channel', c.name],
  ['ChannelState', stateCode(c.state)],
  ['ChannelStateDesc', c.state],
  ['CallerIDNum', c.caller.number || '<unknown>'],
  ['CallerIDName', c.caller.name || '<unknown>'],
  ['ConnectedLineNum', c.connected.number || '<unknown>'],
  ['ConnectedLineName', c.connected.name || '<unknown>'],
  ['Language', 'en'],
  ['AccountCode', c.accountcode ?? ''],
  ['Context', c.dialplan.context],
  ['Exten', c.dialplan.exten],
  ['Priority', c.dialplan.priority],
  ['Uniqueid', c.id],
  ['Linkedid', c.linkedid ?? c.id],
];

/** What a channel's snapshot lines were made of (see snapshotLines). */
interface SnapshotOf {
  name: string;
  state: string;
  callerName: string;
  callerNumber: string;
  connectedName: string;
  connectedNumber: string;
  accountcode: string;
  context: string;
  exten: string;
  priority: number;
  linkedid: string;
  text: string;
}
const snapshots = new WeakMap<SimChannel, SnapshotOf>();

/**
 * `lines(snapshot(c))`, kept per channel while none of its parts changes: a channel's events come
 * in runs with the same snapshot (its variables, dial and bridge events), and every session that
 * may read them is sent each whole.
 */
export function snapshotLines(c: SimChannel): string {
  const was = snapshots.get(c);
  const linkedid = c.linkedid ?? c.id;
  if (
    was &&
    was.name === c.name &&
    was.state === c.state &&
    was.callerName === c.caller.name &&
    was.callerNumber === c.caller.number &&
    was.connectedName === c.connected.name &&
    was.connectedNumber === c.connected.number &&
    was.accountcode === (c.accountcode ?? '') &&
    was.context === c.dialplan.context &&
    was.exten === c.dialplan.exten &&
    was.priority === c.dialplan.priority &&
    was.linkedid === linkedid
  )
    return was.text;
  const text = lines(snapshot(c));
  snapshots.set(c, {
    name: c.name,
    state: c.state,
    callerName: c.caller.name,
    callerNumber: c.caller.number,
    connectedName: c.connected.name,
    connectedNumber: c.connected.number,
    accountcode: c.accountcode ?? '',
    context: c.dialplan.context,
    exten: c.dialplan.exten,
    priority: c.dialplan.priority,
    linkedid,
    text,
  });
  return text;
}

/**
 * A POSIX extended regex (what Asterisk compiles filters with, no REG_NEWLINE) as a JS RegExp:
 * `.` matches line ends too, `^`/`$` only at the ends of the text, and bracket classes such as
 * `[[:space:]]` are spelled out.
 */
export function posixRegex(src: string): RegExp {
  const classes: Record<string, string> = {
    space: '\\s',
    digit: '0-9',
    alpha: 'A-Za-z',
    alnum: 'A-Za-z0-9',
    upper: 'A-Z',
    lower: 'a-z',
    xdigit: '0-9A-Fa-f',
    punct: '!-\\/:-@\\[-`{-~',
  };
  const js = src.replace(/\[:([a-z]+):\]/g, (m, name: string) => {
    const c = classes[name];
    if (c === undefined) throw new Error(`unknown class ${m}`);
    return c;
  });
  return new RegExp(js, 's');
}
