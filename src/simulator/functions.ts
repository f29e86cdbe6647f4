// Dialplan functions and built-in variables, as ARI, AMI and the dialplan interpreter read and write
// them: one place, so `GET /channels/{id}/variable`, AMI `Getvar`/`Setvar` and `${...}` in the
// dialplan answer alike, as they do in Asterisk (all three go through ast_func_read/ast_func_write
// and pbx_retrieve_variable).
//
// A name ending in `)` is a function call `NAME(args)` (func_args: the arguments run from the first
// `(` to the last `)`); its name is matched case-sensitively, as ast_custom_function_find does. The
// functions the simulator knows: CALLERID (func_callerid.c: `num`/`number`, `name`, `all`, `pres`),
// TIMEOUT (func_timeout.c: `absolute`), CDR (func_cdr.c: the record's fields, `userfield` and the
// record's own variables), CHANNEL (func_channel.c: the items below). Any other name is, to the simulator, a function not registered: a read
// fails (-1) and a write fails (-1), as Asterisk answers for one it has not loaded.
import type { SimChannel, SimModel } from './model.ts';

/** `NAME(args)` split as func_args splits it; null when the name is not a function call. */
function call(expr: string): { name: string; args: string } | null {
  if (!expr.endsWith(')')) return null;
  const open = expr.indexOf('(');
  if (open < 0) return { name: expr, args: '' };
  const close = expr.lastIndexOf(')');
  return { name: expr.slice(0, open), args: expr.slice(open + 1, close) };
}

/** ast_callerid_split: `"name" <num>`, `name <num>`, or a bare number (or a bare name). */
function splitCallerId(v: string): { name: string; number: string } {
  const m = /^\s*(?:"([^"]*)"|([^<]*?))\s*<([^>]*)>/.exec(v);
  if (m) return { name: (m[1] ?? m[2] ?? '').trim(), number: m[3]!.trim() };
  const t = v.trim();
  return /^[0-9+*#]+$/.test(t) ? { name: '', number: t } : { name: t, number: '' };
}

/** `%Y-%m-%d %T` in the simulator's zone (UTC), as func_cdr prints start, answer and end. */
const cdrTime = (ms: number) => (ms ? new Date(ms).toISOString().slice(0, 19).replace('T', ' ') : '');

/**
 * ${CDR(field)} of a live channel, from the record of which it is party A (cdr.c
 * cdr_object_format_property, then the record's variables): what the channel's snapshot shows now.
 */
function cdrRead(m: SimModel, c: SimChannel, field: string): string {
  const k = field.toLowerCase();
  const start = Date.parse(c.creationtime.replace('+0000', 'Z')) || Date.now();
  const now = Date.now();
  const { name, number } = c.caller;
  const other = c.bridge
    ? [...(m.bridges.get(c.bridge)?.channels ?? [])].map((id) => m.channels.get(id)).find((x) => x && x !== c)
    : undefined;
  switch (k) {
    case 'clid':
      return name && number ? `"${name}" <${number}>` : name || number;
    case 'src':
      return number;
    case 'dst':
      return c.dialplan.exten;
    case 'dcontext':
      return c.dialplan.context;
    case 'channel':
      return c.name;
    case 'dstchannel':
      return other?.name ?? '';
    case 'lastapp':
      return c.dialplan.app_name;
    case 'lastdata':
      return c.dialplan.app_data;
    case 'start':
      return cdrTime(start);
    case 'answer':
      return cdrTime(c.upAt ?? 0);
    case 'end':
      return '';
    case 'duration':
      return String(Math.floor((now - start) / 1000));
    case 'billsec':
      return String(c.upAt ? Math.floor((now - c.upAt) / 1000) : 0);
    case 'disposition':
      return c.upAt ? 'ANSWERED' : 'NO ANSWER';
    case 'amaflags':
      return 'DOCUMENTATION';
    case 'accountcode':
      return c.accountcode ?? '';
    case 'peeraccount':
      return other?.accountcode ?? '';
    case 'tenantid':
      return '';
    case 'uniqueid':
      return c.id;
    case 'linkedid':
      return c.linkedid ?? c.id;
    case 'userfield':
      return c.cdr?.userfield ?? '';
    default:
      return c.cdr?.vars.get(field) ?? '';
  }
}

/** The CDR fields cdr.c refuses to set as variables ("Attempt to set the '%s' read-only variable!"). */
const CDR_READONLY = new Set([
  'clid',
  'src',
  'dst',
  'dcontext',
  'channel',
  'dstchannel',
  'lastapp',
  'lastdata',
  'start',
  'answer',
  'end',
  'duration',
  'billsec',
  'disposition',
  'amaflags',
  'accountcode',
  'uniqueid',
  'linkedid',
  'tenantid',
  'userfield',
  'sequence',
]);

/**
 * ast_func_read: the function's value, or null where Asterisk's read returns -1 (a function not
 * registered, no channel for a function that needs one, a TIMEOUT type it does not know).
 */
export function readFunction(m: SimModel, c: SimChannel | null, expr: string): string | null {
  const f = call(expr);
  if (!f) return null;
  const arg = f.args.split(',')[0]!.trim();
  switch (f.name) {
    case 'CALLERID': {
      if (!c || !f.args) return null;
      const member = arg.toLowerCase();
      if (member === 'all') return `"${c.caller.name}" <${c.caller.number}>`;
      if (member === 'name') return c.caller.name;
      if (member.startsWith('num')) return c.caller.number;
      if (member.startsWith('pres'))
        return c.caller.name || c.caller.number ? 'allowed_not_screened' : 'unavailable';
      // func_callerid logs "Unknown callerid data type" and reads empty, still a success.
      return '';
    }
    case 'TIMEOUT': {
      if (!c) return null;
      const t = arg[0]?.toLowerCase();
      if (t === 'a') return c.hangupAt === undefined ? '0' : ((c.hangupAt - Date.now()) / 1000).toFixed(3);
      // Response and digit timeouts belong to a PBX thread; the simulator's are Asterisk's defaults.
      if (t === 'r') return c.called || c.fromDialplan ? '10.000' : '';
      if (t === 'd') return c.called || c.fromDialplan ? '5.000' : '';
      return null;
    }
    case 'CDR':
      if (!c) return null;
      // "CDR requires a variable": a warning, the read still succeeds, empty.
      if (!arg) return '';
      return cdrRead(m, c, arg);
    case 'CHANNEL':
      return c ? channelRead(m, c, arg) : null;
    default:
      return null;
  }
}

/** The technology of a channel by its name, as ast_channel_tech(chan)->type reads. */
const channelType = (c: SimChannel) => c.name.slice(0, c.name.indexOf('/'));

/**
 * CHANNEL(item) read (func_channel.c), items matched without case. The items the simulator keeps;
 * any other is logged as Asterisk logs an item it does not know ("Unknown or unavailable item
 * requested") and fails (-1), including real items the simulator does not model.
 */
function channelRead(m: SimModel, c: SimChannel, item: string): string | null {
  switch (item.toLowerCase()) {
    case 'accountcode':
      return c.accountcode ?? '';
    case 'peeraccount':
      return c.peeraccount ?? '';
    case 'name':
    case 'channame':
      return c.name;
    case 'uniqueid':
      return c.id;
    case 'linkedid':
      return c.linkedid ?? c.id;
    case 'state':
      return c.state;
    case 'channeltype':
      return channelType(c);
    case 'language':
      return 'en';
    case 'exten':
      return c.dialplan.exten;
    case 'context':
      return c.dialplan.context;
    case 'appname':
      return c.dialplan.app_name || null;
    case 'appdata':
      return c.dialplan.app_data || null;
    case 'checkhangup':
      return '0';
    case 'onhold':
      return '0';
    default:
      m.emit('log', 'WARNING', `Unknown or unavailable item requested: '${item}'`);
      return null;
  }
}

/**
 * CHANNEL(item) write: `accountcode` and `peeraccount` are set and the snapshot published at once
 * (the setters publish on a finalised channel: AMI NewAccountCode for a new account code, nothing
 * for the peer account); any other item is logged and fails, as one Asterisk does not know.
 */
function channelWrite(m: SimModel, c: SimChannel, item: string, value: string): boolean {
  const k = item.toLowerCase();
  if (k !== 'accountcode' && k !== 'peeraccount') {
    m.emit('log', 'WARNING', `Unknown or unavailable item requested: '${item}'`);
    return false;
  }
  if (k === 'accountcode') c.accountcode = value;
  else c.peeraccount = value;
  m.publish(c);
  return true;
}

/**
 * ast_func_write: writes the function, true where Asterisk's write returns 0. CALLERID changes the
 * caller (a changed one is published: NewCallerid, ChannelCallerId; never a VarSet), TIMEOUT
 * (absolute) hangs the channel up that long from now, CDR sets the record's userfield or one of its
 * variables (a read-only field is refused with only a log line: func_cdr still returns 0).
 */
export function writeFunction(m: SimModel, c: SimChannel | null, expr: string, value: string): boolean {
  const f = call(expr);
  if (!f) return false;
  const arg = f.args.split(',')[0]!.trim();
  switch (f.name) {
    case 'CALLERID': {
      if (!c || !f.args) return false;
      const member = arg.toLowerCase();
      const v = value.trimStart();
      if (member === 'all') c.caller = splitCallerId(v);
      else if (member === 'name') c.caller = { ...c.caller, name: v.trimEnd() };
      else if (member.startsWith('num')) c.caller = { ...c.caller, number: v.trimEnd() };
      // Other members (ani, rdnis, dnid, pres...) are not modelled: logged and left, as an
      // unknown data type is in Asterisk.
      m.publish(c);
      return true;
    }
    case 'TIMEOUT': {
      if (!c || !f.args) return false;
      if (arg[0]?.toLowerCase() === 'a') {
        const n = /^\s*(-?\d+)(\.\d*)?/.exec(value);
        m.setAbsoluteTimeout(c, n ? Number(n[1]) + Number(n[2] ?? 0) : 0);
      }
      return true;
    }
    case 'CDR': {
      if (!c || !arg) return false;
      c.cdr ??= { vars: new Map() };
      const k = arg.toLowerCase();
      if (k === 'userfield') c.cdr.userfield = value;
      else if (!CDR_READONLY.has(k) && k !== 'accountcode' && k !== 'amaflags' && k !== 'peeraccount')
        c.cdr.vars.set(arg, value);
      return true;
    }
    case 'CHANNEL':
      // "No channel was provided to CHANNEL function": -1.
      return c ? channelWrite(m, c, arg, value) : false;
    default:
      return false;
  }
}

/**
 * pbx_retrieve_variable: a variable's value, or undefined when it has none. A channel's built-in
 * names first (EXTEN, CONTEXT, PRIORITY, CHANNEL, UNIQUEID, HANGUPCAUSE, CALLINGPRES), then the
 * global built-ins (EPOCH, ENTITYID), then the channel's variables, then the globals.
 */
export function retrieveVariable(m: SimModel, c: SimChannel | null, name: string): string | undefined {
  if (c) {
    switch (name) {
      case 'EXTEN':
        return c.dialplan.exten;
      case 'CONTEXT':
        return c.dialplan.context;
      case 'PRIORITY':
        return String(c.dialplan.priority);
      case 'CHANNEL':
        return c.name;
      case 'UNIQUEID':
        return c.id;
      case 'HANGUPCAUSE':
        return String(c.hangupCause ?? 0);
      case 'CALLINGPRES':
        return c.caller.name || c.caller.number ? '0' : '67';
    }
  }
  if (name === 'EPOCH') return String(Math.floor(Date.now() / 1000));
  if (name === 'ENTITYID') return m.asteriskId;
  return (c ? c.vars.get(name) : undefined) ?? m.globals.get(name);
}
