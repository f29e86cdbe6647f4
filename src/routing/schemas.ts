// The routing resources' request and response shapes (zod), and the rows as the API shows them:
// sellers, clients, campaigns, DIDs, and the links between campaigns and clients.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { parseIncrement } from '../cdr/money.ts';
import {
  CAP_COUNTS,
  type DefaultRoute,
  DUP_POLICIES,
  type HourlyConcurrency,
  ROUTING_STRATEGIES,
  type WeeklySchedule,
} from '../db/schema/routing.ts';
import { queryBool } from '../platform/http/input.ts';
import { pageQuery } from '../platform/http/paging.ts';
import { scheduleProblems } from './decide.ts';
import type {
  CallerBlockRow,
  CampaignRow,
  ClientRow,
  DidRow,
  GroupRow,
  LinkRow,
  SellerRow,
} from './repository.ts';
import { PLACE_CODE } from './screen.ts';

/** `?cascade=true` on a DELETE: also detach or remove what refers to the row. */
export const cascadeQuery = z.object({ cascade: queryBool.default(false) });

// ---------------------------------------------------------------- sellers

// ---------------------------------------------------------------- caps (links, sellers, DIDs, groups)

const capField = z.number().int().min(0).max(1_000_000).nullable().optional();
/** The five cap kinds, each optional in a body (null removes the cap). */
export const capFields = {
  concurrency_cap: capField,
  hourly_cap: capField,
  daily_cap: capField,
  monthly_cap: capField,
  total_cap: capField,
};
export type CapBody = { [K in keyof typeof capFields]?: number | null | undefined };
const capOut = z.number().nullable();
export const capsOut = {
  concurrency_cap: capOut,
  hourly_cap: capOut,
  daily_cap: capOut,
  monthly_cap: capOut,
  total_cap: capOut,
};
type CapColumns = {
  concurrencyCap: number | null;
  hourlyCap: number | null;
  dailyCap: number | null;
  monthlyCap: number | null;
  totalCap: number | null;
};
export const toCaps = (r: CapColumns) => ({
  concurrency_cap: r.concurrencyCap,
  hourly_cap: r.hourlyCap,
  daily_cap: r.dailyCap,
  monthly_cap: r.monthlyCap,
  total_cap: r.totalCap,
});
/** A body's caps as column values (absent stays absent: a PATCH leaves it alone). */
export const capValues = (b: CapBody) => ({
  concurrencyCap: b.concurrency_cap,
  hourlyCap: b.hourly_cap,
  dailyCap: b.daily_cap,
  monthlyCap: b.monthly_cap,
  totalCap: b.total_cap,
});
export const hasCapFields = (b: CapBody) => Object.values(capValues(b)).some((v) => v !== undefined);

// ---------------------------------------------------------------- sellers

export const sellerBody = z
  .object({ name: z.string().trim().min(1).max(200), active: z.boolean().optional(), ...capFields })
  .strict();
export type SellerBody = z.infer<typeof sellerBody>;
export const sellerOut = z.object({
  id: z.uuid(),
  name: z.string(),
  active: z.boolean(),
  ...capsOut,
  created_at: z.string(),
});
export const toSeller = (r: SellerRow) => ({
  id: r.id,
  name: r.name,
  active: r.active,
  ...toCaps(r),
  created_at: r.createdAt.toISOString(),
});
/** A seller body as column values. */
export const sellerValues = <T extends Partial<SellerBody>>(b: T) => ({
  name: b.name,
  active: b.active,
  ...capValues(b),
});

// ---------------------------------------------------------------- clients

const tz = z.string().refine((t) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: t });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');
const range = z.tuple([z.string(), z.string()]);
const schedule = z
  .partialRecord(z.enum(['0', '1', '2', '3', '4', '5', '6']), z.array(range).max(10))
  .superRefine((s, ctx) => {
    for (const p of scheduleProblems(s as WeeklySchedule)) ctx.addIssue({ code: 'custom', message: p });
  });
// A PJSIP endpoint name, or a dial string Asterisk's Dial understands (Tech/resource).
const endpoint = z
  .string()
  .trim()
  .regex(
    /^([A-Za-z0-9_.+-]{1,80}|[A-Za-z]+\/[A-Za-z0-9_.+@:-]{1,120})$/,
    'a PJSIP endpoint name or a dial string like PJSIP/1000@trunk',
  );

export const clientBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    endpoint,
    active: z.boolean().optional(),
    timezone: tz.nullable().optional(),
    schedule: schedule.nullable().optional(),
    group_id: z.uuid().nullable().optional(),
  })
  .strict();
export type ClientBody = Partial<z.infer<typeof clientBody>>;
export const clientOut = z.object({
  id: z.uuid(),
  name: z.string(),
  endpoint: z.string(),
  active: z.boolean(),
  timezone: z.string().nullable(),
  schedule: z.record(z.string(), z.array(range)).nullable(),
  group_id: z.uuid().nullable(),
  created_at: z.string(),
});
export const toClient = (r: ClientRow) => ({
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  active: r.active,
  timezone: r.timezone,
  schedule: (r.schedule ?? null) as Record<string, [string, string][]> | null,
  group_id: r.groupId,
  created_at: r.createdAt.toISOString(),
});
/** A client body as column values. */
export const clientValues = <T extends ClientBody>({ group_id, ...b }: T) => ({
  ...b,
  groupId: group_id,
  schedule: b.schedule as WeeklySchedule | null | undefined,
});

// ---------------------------------------------------------------- buyer groups

export const groupBody = z
  .object({ name: z.string().trim().min(1).max(200), timezone: tz.nullable().optional(), ...capFields })
  .strict();
export type GroupBody = z.infer<typeof groupBody>;
export const groupOut = z.object({
  id: z.uuid(),
  name: z.string(),
  timezone: z.string().nullable(),
  ...capsOut,
  created_at: z.string(),
});
export const toGroup = (r: GroupRow) => ({
  id: r.id,
  name: r.name,
  timezone: r.timezone,
  ...toCaps(r),
  created_at: r.createdAt.toISOString(),
});
/** A group body as column values. */
export const groupValues = <T extends Partial<GroupBody>>(b: T) => ({
  name: b.name,
  timezone: b.timezone,
  ...capValues(b),
});

// ---------------------------------------------------------------- campaigns

/** Where a campaign sends calls when every link is capped, closed or off. */
export const defaultRouteField = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('campaign'), campaign_id: z.uuid() }).strict(),
  z
    .object({
      kind: z.literal('context'),
      context: z.string().regex(/^[A-Za-z0-9_.-]{1,80}$/, 'a dialplan context name'),
      extension: z
        .string()
        .regex(/^[A-Za-z0-9_*#+.-]{1,80}$/, 'a dialplan extension')
        .optional(),
      priority: z.number().int().min(1).max(10_000).optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('message'),
      // What ARI plays: sounds and stored recordings, in order.
      media: z
        .array(
          z.string().regex(/^(sound|recording):[A-Za-z0-9_./-]{1,200}$/, 'sound:<name> or recording:<name>'),
        )
        .min(1)
        .max(10),
    })
    .strict(),
]);

const campaignFields = {
  name: z.string().trim().min(1).max(200),
  strategy: z.enum(ROUTING_STRATEGIES).optional(),
  ring_timeout_s: z.number().int().min(1).max(600).optional(),
  max_attempts: z.number().int().min(1).max(20).optional(),
  dup_window_h: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .nullable()
    .optional(),
  dup_policy: z.enum(DUP_POLICIES).optional(),
  reject_anonymous: z.boolean().optional(),
  repeat_window_s: z.number().int().min(1).max(604_800).nullable().optional(),
  use_blocklist: z.boolean().optional(),
  caller_regions: z
    .array(z.string().trim().toUpperCase().regex(PLACE_CODE, 'a country ("US") or a NANP region ("US-NY")'))
    .max(100)
    .nullable()
    .optional(),
  default_route: defaultRouteField.nullable().optional(),
  max_reroutes: z.number().int().min(0).max(5).optional(),
  queue_s: z.number().int().min(1).max(3600).nullable().optional(),
  max_call_s: z.number().int().min(1).max(86_400).nullable().optional().meta({
    description: 'Seconds a call may last after the client answers (null: no limit); Asterisk cuts it there.',
  }),
  record_calls: z.boolean().optional().meta({
    description: 'Record each answered call (the bridge of caller and client) in Asterisk; off by default.',
  }),
  active: z.boolean().optional(),
};
// Optional in the schema because a seller key's rows belong to its own seller; a staff or admin key
// must name one (400 VALIDATION_FAILED without it), as the documents say.
const ownerSeller = z.uuid().optional().meta({
  description:
    "The seller that owns the row. Required with a staff or admin key (400 VALIDATION_FAILED without it); with a seller key, leave it out or give the key's own seller.",
});
export const campaignCreateBody = z.object({ seller_id: ownerSeller, ...campaignFields }).strict();
export const campaignPatchBody = z.object(campaignFields).partial().strict();
export type CampaignPatch = z.infer<typeof campaignPatchBody>;
export const campaignsQuery = pageQuery.extend({ seller_id: z.uuid().optional() });
export const campaignOut = z.object({
  id: z.uuid(),
  seller_id: z.uuid(),
  name: z.string(),
  strategy: z.enum(ROUTING_STRATEGIES),
  ring_timeout_s: z.number(),
  max_attempts: z.number(),
  dup_window_h: z.number().nullable(),
  dup_policy: z.enum(DUP_POLICIES),
  reject_anonymous: z.boolean(),
  repeat_window_s: z.number().nullable(),
  use_blocklist: z.boolean(),
  caller_regions: z.array(z.string()).nullable(),
  default_route: defaultRouteField.nullable(),
  max_reroutes: z.number(),
  queue_s: z.number().nullable(),
  max_call_s: z.number().nullable(),
  record_calls: z.boolean(),
  active: z.boolean(),
  created_at: z.string(),
});
export const toCampaign = (r: CampaignRow) => ({
  id: r.id,
  seller_id: r.sellerId,
  name: r.name,
  strategy: r.strategy,
  ring_timeout_s: r.ringTimeoutS,
  max_attempts: r.maxAttempts,
  dup_window_h: r.dupWindowH,
  dup_policy: r.dupPolicy,
  reject_anonymous: r.rejectAnonymous,
  repeat_window_s: r.repeatWindowS,
  use_blocklist: r.useBlocklist,
  caller_regions: r.callerRegions,
  default_route: r.defaultRoute ?? null,
  max_reroutes: r.maxReroutes,
  queue_s: r.queueS,
  max_call_s: r.maxCallS,
  record_calls: r.recordCalls,
  active: r.active,
  created_at: r.createdAt.toISOString(),
});
/** A campaign body as column values. */
export const campaignValues = (b: CampaignPatch) => ({
  name: b.name,
  strategy: b.strategy,
  ringTimeoutS: b.ring_timeout_s,
  maxAttempts: b.max_attempts,
  dupWindowH: b.dup_window_h,
  dupPolicy: b.dup_policy,
  rejectAnonymous: b.reject_anonymous,
  repeatWindowS: b.repeat_window_s,
  useBlocklist: b.use_blocklist,
  // An empty list would refuse every caller: it means no filter, as null does.
  callerRegions:
    b.caller_regions === undefined ? undefined : b.caller_regions?.length ? b.caller_regions : null,
  defaultRoute: b.default_route as DefaultRoute | null | undefined,
  maxReroutes: b.max_reroutes,
  queueS: b.queue_s,
  maxCallS: b.max_call_s,
  recordCalls: b.record_calls,
  active: b.active,
});

// ---------------------------------------------------------------- DIDs

/** E.164 form of a number written by an operator ("+1 (415) 555-0100", "14155550100"); null if invalid. */
export function toE164(raw: string, defaultCountry: 'US' = 'US'): string | null {
  const s = raw.trim();
  const p = parsePhoneNumberFromString(/^\d{11,15}$/.test(s) ? `+${s}` : s, defaultCountry);
  return p?.isValid() ? p.number : null;
}
const e164 = z.string().transform((s, ctx) => {
  const n = toE164(s);
  if (!n) ctx.addIssue({ code: 'custom', message: `"${s}" is not a valid phone number` });
  return n ?? s;
});

// A DID's caps are the operator's (staff): a seller key may not set them (FORBIDDEN_ROLE).
/** An amount in micro-units (millionths of the currency unit), never a float. */
export const micros = z.number().int().min(0).max(1_000_000_000_000);
/** What the carrier charges for a number (staff only: sellers do not see the operator's costs). */
const didCostFields = {
  rate_per_min_micros: micros.optional(),
  monthly_rent_micros: micros.optional(),
};
export const didCreateBody = z
  .object({
    number: e164,
    seller_id: ownerSeller,
    campaign_id: z.uuid().nullable().optional(),
    ...capFields,
    ...didCostFields,
  })
  .strict();
export const didPatchBody = z
  .object({ campaign_id: z.uuid().nullable().optional(), ...capFields, ...didCostFields })
  .strict();
export type DidPatch = z.infer<typeof didPatchBody>;
export const didsQuery = pageQuery.extend({ campaign_id: z.uuid().optional() });
export const didOut = z.object({
  id: z.uuid(),
  number: z.string(),
  seller_id: z.uuid(),
  campaign_id: z.uuid().nullable(),
  ...capsOut,
  rate_per_min_micros: z.number().optional(),
  monthly_rent_micros: z.number().optional(),
  created_at: z.string(),
});
/** A DID as the API shows it; the carrier's costs only to staff (`staff`). */
export const toDid = (r: DidRow, staff = true) => ({
  id: r.id,
  number: r.number,
  seller_id: r.sellerId,
  campaign_id: r.campaignId,
  ...toCaps(r),
  ...(staff ? { rate_per_min_micros: r.ratePerMinMicros, monthly_rent_micros: r.monthlyRentMicros } : {}),
  created_at: r.createdAt.toISOString(),
});

// ---------------------------------------------------------------- links

// Per weekday (0 = Sunday) 24 concurrency caps, one per hour of the client's day; null = the link's.
const hourlyConcurrency = z
  .partialRecord(
    z.enum(['0', '1', '2', '3', '4', '5', '6']),
    z.array(z.number().int().min(0).max(1_000_000).nullable()).length(24, 'one entry per hour: 24'),
  )
  .nullable()
  .optional();
const linkFields = {
  ...capFields,
  concurrency_schedule: hourlyConcurrency,
  priority: z.number().int().min(0).max(1000).optional(),
  weight: z.number().int().min(1).max(10_000).optional(),
  active: z.boolean().optional(),
  /** Revenue recovery: a client hanging up within this many seconds of answering sends the caller on. */
  recovery_s: z.number().int().min(1).max(600).nullable().optional(),
  caps_count: z.enum(CAP_COUNTS).optional(),
  convert_after_s: z.number().int().min(0).max(86_400).nullable().optional(),
  payout_micros: micros.optional(),
  revenue_micros: micros.optional(),
  billing_increment: z
    .string()
    .refine(
      (v) => parseIncrement(v) !== null,
      'a billing increment "first/next" in seconds (1-3600), like 6/6',
    )
    .optional(),
};
export const linkCreateBody = z.object({ client_id: z.uuid(), ...linkFields }).strict();
export const linkPatchBody = z.object(linkFields).strict();
export type LinkPatch = z.infer<typeof linkPatchBody>;
const cap = z.number().nullable();
export const linkOut = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  client_id: z.uuid(),
  concurrency_cap: cap,
  hourly_cap: cap,
  daily_cap: cap,
  monthly_cap: cap,
  total_cap: cap,
  concurrency_schedule: z.record(z.string(), z.array(z.number().nullable())).nullable(),
  priority: z.number(),
  weight: z.number(),
  active: z.boolean(),
  recovery_s: z.number().nullable(),
  total_answered: z.number(),
  caps_count: z.enum(CAP_COUNTS),
  convert_after_s: z.number().nullable(),
  payout_micros: z.number(),
  revenue_micros: z.number().optional(),
  billing_increment: z.string(),
});
/** A link as the API shows it; what the client is charged only to staff (`staff`). */
export const toLink = (r: LinkRow, staff = true) => ({
  id: r.id,
  campaign_id: r.campaignId,
  client_id: r.clientId,
  concurrency_cap: r.concurrencyCap,
  hourly_cap: r.hourlyCap,
  daily_cap: r.dailyCap,
  monthly_cap: r.monthlyCap,
  total_cap: r.totalCap,
  concurrency_schedule: (r.concurrencySchedule ?? null) as Record<string, Array<number | null>> | null,
  priority: r.priority,
  weight: r.weight,
  active: r.active,
  recovery_s: r.recoveryS,
  total_answered: r.totalAnswered,
  caps_count: r.capsCount,
  convert_after_s: r.convertAfterS,
  payout_micros: r.payoutMicros,
  ...(staff ? { revenue_micros: r.revenueMicros } : {}),
  billing_increment: r.billingIncrement,
});
/** A link body as column values. */
export const linkValues = (b: LinkPatch) => ({
  concurrencyCap: b.concurrency_cap,
  hourlyCap: b.hourly_cap,
  dailyCap: b.daily_cap,
  monthlyCap: b.monthly_cap,
  totalCap: b.total_cap,
  concurrencySchedule: b.concurrency_schedule as HourlyConcurrency | null | undefined,
  priority: b.priority,
  weight: b.weight,
  active: b.active,
  recoveryS: b.recovery_s,
  capsCount: b.caps_count,
  convertAfterS: b.convert_after_s,
  payoutMicros: b.payout_micros,
  revenueMicros: b.revenue_micros,
  billingIncrement: b.billing_increment,
});

// ---------------------------------------------------------------- caller blocklists

export const callerBlockBody = z
  .object({
    number: e164,
    /** The seller whose list it goes on; null (staff only) is the global list. A seller key: its own. */
    seller_id: z.uuid().nullable().optional(),
    note: z.string().trim().max(200).nullable().optional(),
  })
  .strict();
export const callerBlocksQuery = pageQuery.extend({
  /** A seller's list, or `global`; staff see every list when absent. */
  seller_id: z.union([z.uuid(), z.literal('global')]).optional(),
  number: z.string().max(32).optional(),
});
export const callerBlockImportQuery = z.object({
  seller_id: z.union([z.uuid(), z.literal('global')]).optional(),
});
export const callerBlockOut = z.object({
  id: z.uuid(),
  seller_id: z.uuid().nullable(),
  number: z.string(),
  note: z.string().nullable(),
  created_at: z.string(),
});
export const toCallerBlock = (r: CallerBlockRow) => ({
  id: r.id,
  seller_id: r.sellerId,
  number: r.number,
  note: r.note,
  created_at: r.createdAt.toISOString(),
});
export const callerBlockImportOut = z.object({
  lines: z.number(),
  added: z.number(),
  already_listed: z.number(),
  rejected: z.array(z.object({ line: z.number(), reason: z.string() })),
  rejected_total: z.number(),
});
