// The caller-ID API's shapes (zod): requests as the routes validate them, answers as they are
// serialised and documented. The thing numbers rotate in is a *pool*. VICIdial names it `campaign`
// in the query of /next-cid, and the API spoke of campaigns before: `campaign`/`campaigns` stay
// accepted (and answered) beside `pool`/`pools` so deployed dialers and scripts keep working.
import { z } from 'zod';
import { page, pageQuery, sortable } from '../platform/http/paging.ts';
import { normaliseNumber } from './decide.ts';
import { POOL_ID } from './import.ts';
import { POOL_SORTS } from './repository.ts';

export const DIALER = ['admin', 'staff', 'dialer'] as const;

export const poolId = z.string().regex(POOL_ID, '1-64 letters, digits, _ . -');
const e164 = z
  .string()
  .trim()
  .transform((s, ctx) => {
    const n = normaliseNumber(s);
    if (!n) ctx.addIssue({ code: 'custom', message: 'not a valid phone number' });
    return n ?? s;
  });
const limitField = z.number().int().min(0).max(1_000_000_000).nullable();

/** `?pool=` or its older name `?campaign=` (not both), as one optional pool id. */
const poolFilterShape = { pool: poolId.optional(), campaign: poolId.optional() };
const onePool = (q: { pool?: string | undefined; campaign?: string | undefined }) =>
  q.pool === undefined || q.campaign === undefined;
const ONE_POOL = { message: 'name the pool once: pool or campaign (its older name)' };
export const poolOf = (q: { pool?: string | undefined; campaign?: string | undefined }) =>
  q.pool ?? q.campaign;

export const poolFilter = z.object(poolFilterShape).refine(onePool, ONE_POOL);
export const pagedPoolFilter = pageQuery.extend(poolFilterShape).refine(onePool, ONE_POOL);

// /next-cid: `campaign` is what VICIdial sends; `pool` is accepted too.
export const nextQuery = z
  .object({
    ...poolFilterShape,
    to: z.string().max(32).optional(),
    agent: z
      .string()
      .regex(/^[A-Za-z0-9_.@:-]{1,64}$/, '1-64 letters, digits, _ . @ : -')
      .optional(),
    format: z.enum(['json', 'text']).default('json'),
    key: z.string().optional(),
  })
  .refine(onePool, ONE_POOL)
  .refine((q) => poolOf(q) !== undefined, {
    message: 'campaign (the pool id) is required',
    path: ['campaign'],
  });

export const poolParams = z.object({ id: poolId });
/** The pools list: `q` part of the id or name (blank: none), in an allow-listed order. */
export const poolsQuery = pageQuery.extend({
  q: z.preprocess(
    (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
    z.string().trim().max(100).optional(),
  ),
  ...sortable(POOL_SORTS),
});
export const poolBody = z
  .object({
    id: poolId,
    name: z.string().trim().max(200).nullable().optional(),
    fallback_number: e164.nullable().optional(),
    health_window: z.number().int().min(1).max(1000).optional(),
    health_min_answer_rate: z.number().min(0).max(1).optional(),
    health_rest_s: z.number().int().min(1).max(2_592_000).optional(),
  })
  .strict();
export const poolPatch = poolBody.omit({ id: true }).partial();
export type PoolInput = Partial<z.infer<typeof poolBody>>;
export const poolOut = z.object({
  id: z.string(),
  name: z.string().nullable(),
  fallback_number: z.string().nullable(),
  health_window: z.number(),
  health_min_answer_rate: z.number(),
  health_rest_s: z.number(),
  numbers: z.number(),
  created_at: z.string(),
});

const poolList = z
  .array(poolId)
  .max(100)
  .refine((a) => new Set(a).size === a.length, 'a pool may appear only once');
const numberFields = z
  .object({
    carrier: z.string().trim().max(100).nullable().optional(),
    area_code: z
      .string()
      .regex(/^\d{3}$/, '3 digits')
      .nullable()
      .optional(),
    state: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'a 2-letter code')
      .transform((s) => s.toUpperCase())
      .nullable()
      .optional(),
    hourly_limit: limitField.optional(),
    daily_limit: limitField.optional(),
    active: z.boolean().optional(),
    pools: poolList.optional(),
    /** The older name of `pools`. */
    campaigns: poolList.optional(),
  })
  .strict();
const onePoolList = (b: { pools?: unknown; campaigns?: unknown }) =>
  b.pools === undefined || b.campaigns === undefined;
const ONE_POOL_LIST = { message: 'name the pools once: pools or campaigns (its older name)' };
export const numberBody = numberFields.extend({ number: e164 }).strict().refine(onePoolList, ONE_POOL_LIST);
export const numberPatch = numberFields.partial().refine(onePoolList, ONE_POOL_LIST);
export type NumberPatch = z.infer<typeof numberPatch>;
export const numberParams = z.object({ number: e164 });

export const numberOut = z.object({
  number: z.string(),
  carrier: z.string().nullable(),
  area_code: z.string().nullable(),
  state: z.string().nullable(),
  hourly_limit: z.number().nullable(),
  daily_limit: z.number().nullable(),
  active: z.boolean(),
  pools: z.array(z.string()),
  /** The same as `pools`, under its older name. */
  campaigns: z.array(z.string()),
  usage: z.object({
    uses_hour: z.number(),
    uses_day: z.number(),
    total: z.number(),
    last_used_at: z.string().nullable(),
    answered: z.number(),
    unanswered: z.number(),
    rested_until: z.string().nullable(),
  }),
  created_at: z.string(),
});

export const numberStatOut = z.object({
  number: z.string(),
  pools: z.array(z.string()),
  campaigns: z.array(z.string()),
  active: z.boolean(),
  uses_hour: z.number(),
  hourly_limit: z.number().nullable(),
  uses_day: z.number(),
  daily_limit: z.number().nullable(),
  total: z.number(),
  last_used_at: z.string().nullable(),
  reserved_until: z.string().nullable(),
  rested_until: z.string().nullable(),
  exhausted: z.enum(['hourly', 'daily']).nullable(),
  answered: z.number(),
  unanswered: z.number(),
  health: z.object({ calls: z.number(), answer_rate: z.number().nullable() }),
});
const poolStatFields = {
  numbers: z.number(),
  available: z.number(),
  cooling: z.number(),
  reserved: z.number(),
  exhausted_hourly: z.number(),
  exhausted_daily: z.number(),
  resting: z.number(),
  uses_hour: z.number(),
  uses_day: z.number(),
};
export const poolStatOut = z.object({ pool: z.string(), ...poolStatFields });
export const statsOut = z.object({
  at: z.string(),
  pools: z.array(poolStatOut),
  /** The same as `pools`, each named under `campaign`: the older shape. */
  campaigns: z.array(z.object({ campaign: z.string(), ...poolStatFields })),
  numbers: page(numberStatOut),
});

export const importOut = z.object({
  lines: z.number(),
  imported: z.number(),
  rejected: z.array(z.object({ line: z.number(), reason: z.string() })),
  rejected_total: z.number(),
  pools_created: z.array(z.string()),
});
