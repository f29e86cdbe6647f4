// The documented subset of PJSIP endpoint options the API accepts, and the raw-options escape hatch
// (ps_endpoints column -> value) checked against Asterisk's columns. Pure: turns validated input
// into column values; the writers put them in rows.
import { getTableColumns } from 'drizzle-orm';
import { z } from 'zod';
import { psEndpoints } from '../db/schema/asterisk.ts';
import { CONTROL_CHARS, FROM_USER, realtimeEncode } from './realtime.ts';

/** Codec names Asterisk's `allow` understands (core formats and the common codec modules). */
export const KNOWN_CODECS = [
  'ulaw',
  'alaw',
  'gsm',
  'g722',
  'g723',
  'g726',
  'g726aal2',
  'g729',
  'g719',
  'adpcm',
  'ilbc',
  'lpc10',
  'speex',
  'speex16',
  'speex32',
  'opus',
  'silk',
  'silk8',
  'silk12',
  'silk16',
  'silk24',
  'siren7',
  'siren14',
  'codec2',
  'slin',
  'slin12',
  'slin16',
  'slin24',
  'slin32',
  'slin44',
  'slin48',
  'slin96',
  'slin192',
  'testlaw',
  'h261',
  'h263',
  'h263p',
  'h264',
  'h265',
  'mpeg4',
  'vp8',
  'vp9',
  't140',
  't140red',
  'red',
  'jpeg',
  'png',
] as const;

const name40 = z.string().regex(/^[A-Za-z0-9_.-]{1,40}$/, 'letters, digits, _ . - (max 40)');
const fromUser = z
  .string()
  .regex(FROM_USER, "letters, digits and -._~%!$&'()*+,=: (max 40), as Asterisk accepts in from_user");
const domain = z
  .string()
  .regex(/^[A-Za-z0-9.-]{1,40}$/, 'a host name or address (max 40)')
  .or(z.string().regex(/^\[[0-9A-Fa-f:]{2,38}\]$/, 'an IPv6 address in brackets'));

/** Endpoint options (all optional; defaults depend on the kind of endpoint). */
export const endpointOptions = z
  .object({
    context: name40.optional().describe('dialplan context for calls from this endpoint'),
    codecs: z
      .array(z.enum(KNOWN_CODECS))
      .min(1)
      .max(16)
      .optional()
      .describe('allowed codecs in order of preference; written as disallow=all, allow=<list>'),
    dtmf_mode: z.enum(['rfc4733', 'inband', 'info', 'auto', 'auto_info']).optional(),
    direct_media: z.boolean().optional(),
    rtp_symmetric: z.boolean().optional(),
    force_rport: z.boolean().optional(),
    rewrite_contact: z.boolean().optional(),
    from_user: fromUser.optional(),
    from_domain: domain.optional(),
    max_contacts: z.number().int().min(1).max(100).optional().describe('AOR max_contacts'),
    qualify_frequency: z.number().int().min(0).max(86400).optional().describe('AOR qualify_frequency (s)'),
    transport: name40.optional().describe('a transport section of pjsip.conf'),
  })
  .strict();
export type EndpointOptions = z.infer<typeof endpointOptions>;

/** Columns the raw options may never set: they tie the endpoint to its AOR and auth. */
export const LINKAGE_COLUMNS = new Set(['id', 'aors', 'auth', 'outbound_auth']);

interface ColumnInfo {
  key: string;
  type: string;
  length?: number;
  enumValues?: readonly string[];
}
const COLUMNS: Map<string, ColumnInfo> = new Map(
  Object.entries(getTableColumns(psEndpoints)).map(([key, c]) => {
    const col = c as unknown as { name: string; columnType: string; length?: number; enumValues?: string[] };
    return [
      col.name,
      {
        key,
        type: col.columnType,
        ...(col.length ? { length: col.length } : {}),
        ...(col.columnType === 'PgEnumColumn' ? { enumValues: col.enumValues ?? [] } : {}),
      },
    ];
  }),
);

export const rawOptions = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .superRefine((raw, ctx) => {
    for (const [k, v] of Object.entries(raw)) {
      const problem = rawProblem(k, v);
      if (problem) ctx.addIssue({ code: 'custom', path: [k], message: problem });
    }
  })
  .describe(
    'ps_endpoints column -> value, for options the API does not model (checked against Asterisk columns)',
  );

/** Why a raw option is refused, or null when it is acceptable. */
export function rawProblem(column: string, value: string | number | boolean | null): string | null {
  const c = COLUMNS.get(column);
  if (!c) return `unknown ps_endpoints column "${column}"`;
  if (LINKAGE_COLUMNS.has(column)) return `"${column}" is managed by the daemon`;
  if (value === null) return null;
  const s = rawValue(value);
  if (CONTROL_CHARS.test(s)) return 'control characters are not allowed';
  if (column === 'from_user' && !FROM_USER.test(s)) return "letters, digits and -._~%!$&'()*+,=: only";
  if (c.enumValues && !c.enumValues.includes(s)) return `must be one of ${c.enumValues.join(', ')}`;
  if (c.type === 'PgInteger' && !/^-?\d{1,9}$/.test(s)) return 'must be an integer';
  // Stored escaped for the realtime driver (';' and '^' take three characters each).
  if (c.length !== undefined && [...realtimeEncode(s)].length > c.length)
    return `at most ${c.length} characters (';' and '^' count three)`;
  return null;
}

const rawValue = (v: string | number | boolean): string =>
  typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v);

const yn = (b: boolean | undefined) => (b === undefined ? undefined : b ? 'yes' : 'no');

export interface OptionDefaults {
  context: string;
  transport: string | null;
  codecs: readonly string[];
}

/**
 * ps_endpoints values (drizzle keys) for the options: documented options first, then raw options
 * on top (which cannot touch linkage columns, see rawProblem).
 */
export function endpointColumns(
  o: EndpointOptions,
  raw: Record<string, string | number | boolean | null>,
  d: OptionDefaults,
): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {
    context: o.context ?? d.context,
    transport: o.transport ?? d.transport,
    disallow: 'all',
    allow: (o.codecs ?? d.codecs).join(','),
    dtmfMode: o.dtmf_mode ?? 'rfc4733',
    directMedia: yn(o.direct_media) ?? 'no',
    rtpSymmetric: yn(o.rtp_symmetric) ?? 'yes',
    forceRport: yn(o.force_rport) ?? 'yes',
    rewriteContact: yn(o.rewrite_contact) ?? 'yes',
    fromUser: o.from_user ?? null,
    fromDomain: o.from_domain ?? null,
  };
  for (const [k, v] of Object.entries(raw)) {
    const c = COLUMNS.get(k);
    if (!c || LINKAGE_COLUMNS.has(k)) continue; // refused by validation already
    out[c.key] = v === null ? null : c.type === 'PgInteger' ? Number(v) : rawValue(v);
  }
  return out;
}
