// How a value must look to reach Asterisk intact through its PostgreSQL realtime driver
// (res_config_pgsql). Pure.
//
// The driver splits every value it reads on ';' into several values of the same option, trims
// each and decodes `^XX` hex escapes (ast_realtime_decode_chunk). A ';' written plainly therefore
// becomes a second option line (a name "x;<1000>" could set the caller number), and `^41` would
// read as "A". Values are stored the way Asterisk itself stores them (ast_realtime_encode_chunk:
// ';' as ^3B, '^' as ^5E). Control characters (CR/LF end a config line) are refused outright.

import { AppError } from '../platform/http/errors.ts';

/** C0 control characters and DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const realtimeEncode = (v: string): string => v.replace(/[;^]/g, (c) => (c === ';' ? '^3B' : '^5E'));

export const realtimeDecode = (v: string): string =>
  v.replace(/\^([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));

/**
 * Characters Asterisk accepts in an endpoint's from_user (res_pjsip's from_user_handler: letters,
 * digits and `-._~%!$&'()*+,;=:`; anything else and the endpoint fails to load), less ';', which
 * the realtime driver would split on.
 */
export const FROM_USER = /^[A-Za-z0-9\-._~%!$&'()*+,=:]{1,40}$/;

/**
 * A PBX user's `callerid` value: `"name" <number>`, at most `max` characters. The number is never
 * cut; the name is shortened to fit (or left out). Characters that would change how Asterisk
 * splits the value (ast_callerid_split looks for the last '<', unquotes '"' and '\') or how the
 * realtime driver reads it (';', '^', control characters) are dropped from the name.
 */
export function userCallerId(name: string, number: string, max = 40): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  const clean = Array.from(name.replace(/[\u0000-\u001f\u007f"\\<>;^]/g, '').trim());
  const room = max - [...number].length - 5; // `"` + `" <` + `>`
  if (room < 1 || clean.length === 0) return `<${number}>`;
  return `"${clean.slice(0, room).join('').trimEnd()}" <${number}>`;
}

/**
 * A ps_* row as it is stored: every text value checked for control characters and escaped for
 * the realtime driver. The one gate every value written to Asterisk's tables goes through.
 */
export function encodeRow<T extends object>(row: T, table: string): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (typeof v !== 'string') {
      out[k] = v;
      continue;
    }
    if (CONTROL_CHARS.test(v))
      throw new AppError('VALIDATION_FAILED', `control characters are not allowed in ${table}.${k}`, [
        { path: k, message: 'control characters are not allowed' },
      ]);
    out[k] = realtimeEncode(v);
  }
  return out as T;
}
