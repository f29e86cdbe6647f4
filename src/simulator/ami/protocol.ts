// AMI's wire pieces: a packet of `Key: Value` lines, a channel's snapshot fields, and the POSIX
// regexes session filters are written in.
import type { SimChannel } from '../model.ts';

export type Fields = Array<[string, string | number]>;

export const packet = (fields: Fields) => `${fields.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`;

export const stateCode = (s: SimChannel['state']) =>
  s === 'Busy' ? 7 : s === 'Up' ? 6 : s === 'Ringing' ? 5 : s === 'Ring' ? 4 : 0;

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
  ['AccountCode', ''],
  ['Context', c.dialplan.context],
  ['Exten', c.dialplan.exten],
  ['Priority', c.dialplan.priority],
  ['Uniqueid', c.id],
  ['Linkedid', c.linkedid ?? c.id],
];

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
