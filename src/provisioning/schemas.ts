// Request and answer shapes of the provisioning API (zod: validation, serialisation and OpenAPI).
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { parseCidr } from '../auth/cidr.ts';
import {
  PROVIDER_KINDS,
  WEBHOOK_EVENTS,
  type webhookDeliveries,
  type webhookSubscriptions,
} from '../db/schema/provisioning.ts';
import { queryBool } from '../platform/http/input.ts';
import { pageQuery, sortable } from '../platform/http/paging.ts';
import { ACCOUNT_SORTS, type AccountRow, type GroupRow, type NumberRow } from './repository.ts';
import { WEBHOOK_SORTS } from './webhooks/repository.ts';
import type { SearchQuery } from './providers/types.ts';

/** A phone number as E.164 (`+14155550100`); `14155550100` and national US forms are accepted. */
export const e164 = z.string().transform((s, ctx) => {
  const t = s.trim();
  const p = parsePhoneNumberFromString(/^\d{11,15}$/.test(t) ? `+${t}` : t, 'US');
  if (!p?.isValid()) {
    ctx.addIssue({ code: 'custom', message: `"${s}" is not a valid phone number` });
    return z.NEVER;
  }
  return p.number as string;
});

export const voice = z
  .object({ type: z.enum(['sip', 'tel', 'app']), value: z.string().min(1).max(500) })
  .strict()
  .refine((v) => v.type !== 'sip' || /^sips?:/.test(v.value), {
    message: 'a sip routing value is a sip: URI',
  });

const npa = z.string().regex(/^[2-9]\d\d$/, 'an NPA is three digits, the first 2-9');
const country = z
  .string()
  .regex(/^[A-Z]{2}$/)
  .default('US');
const cidr = z.string().refine((s) => parseCidr(s) !== null, { message: 'not an address or CIDR' });

/** A page of provider accounts (by name unless another order is asked): by carrier and state. */
export const accountsQuery = pageQuery.extend({
  provider: z.enum(PROVIDER_KINDS).optional(),
  active: queryBool.optional(),
  ...sortable(ACCOUNT_SORTS),
});
export type AccountsQuery = z.infer<typeof accountsQuery>;

export const accountIn = z
  .object({
    name: z.string().min(1).max(100),
    provider: z.literal('vonage'),
    rest_url: z.url().default('https://rest.nexmo.com'),
    api_url: z.url().default('https://api.nexmo.com'),
    api_key: z.string().min(1).max(100),
    api_secret: z.string().min(1).max(200),
    rate_per_s: z.number().positive().max(100).optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: z.number().int().min(100).max(120_000).optional(),
    use_subaccounts: z.boolean().optional(),
    signalling_cidrs: z.array(cidr).max(100).optional(),
    voice: voice.nullable().optional(),
    active: z.boolean().optional(),
  })
  .strict();

export const accountPatch = z
  .object({
    api_key: z.string().min(1).max(100).optional(),
    api_secret: z.string().min(1).max(200).optional(),
    rate_per_s: z.number().positive().max(100).optional(),
    concurrency: z.number().int().min(1).max(50).optional(),
    timeout_ms: z.number().int().min(100).max(120_000).optional(),
    use_subaccounts: z.boolean().optional(),
    voice: voice.nullable().optional(),
    /** false: no new searches, jobs or reconciles; unfinished jobs wait until it is true again. */
    active: z.boolean().optional(),
  })
  .strict()
  .refine((b) => (b.api_key === undefined) === (b.api_secret === undefined), {
    message: 'api_key and api_secret change together',
  });

export const accountOut = z.object({
  id: z.uuid(),
  name: z.string(),
  provider: z.string(),
  rest_url: z.string(),
  api_url: z.string(),
  rate_per_s: z.number(),
  concurrency: z.number(),
  timeout_ms: z.number(),
  use_subaccounts: z.boolean(),
  signalling_cidrs: z.array(z.string()),
  trunk_endpoint: z.string().nullable(),
  voice: z.object({ type: z.string(), value: z.string() }).nullable(),
  /** false: disabled (no new searches, jobs or reconciles; unfinished jobs wait). */
  active: z.boolean(),
  created_at: z.string(),
});

/** An account as the API shows it: never its credentials. */
export const accountView = (a: AccountRow): z.infer<typeof accountOut> => ({
  id: a.id,
  name: a.name,
  provider: a.provider,
  rest_url: a.restUrl,
  api_url: a.apiUrl,
  rate_per_s: a.ratePerS,
  concurrency: a.concurrency,
  timeout_ms: a.timeoutMs,
  use_subaccounts: a.useSubaccounts,
  signalling_cidrs: a.signallingCidrs,
  trunk_endpoint: a.trunkEndpoint,
  voice: a.voice ?? null,
  active: a.active,
  created_at: a.createdAt.toISOString(),
});

export const groupIn = z
  .object({
    provider_account_id: z.uuid(),
    voice: voice.nullable().optional(),
    sip_domain: z.string().max(63).nullable().optional(),
  })
  .strict();

export const searchIn = z
  .object({
    provider_account_id: z.uuid(),
    country,
    npa: npa.optional(),
    pattern: z
      .string()
      .regex(/^\d{1,15}$/)
      .optional(),
    match: z.enum(['starts', 'contains', 'ends']).optional(),
    type: z.enum(['landline', 'mobile-lvn', 'landline-toll-free']).optional(),
    features: z.array(z.enum(['VOICE', 'SMS', 'MMS'])).optional(),
    size: z.number().int().min(1).max(100).default(10),
    index: z.number().int().min(1).default(1),
  })
  .strict()
  .refine((b) => !(b.npa && b.pattern), { message: 'give npa or pattern, not both' });

/** The carrier query a search asks for: an NPA is a pattern of the numbers starting 1<npa>. */
export function searchQueryOf(b: z.infer<typeof searchIn>): SearchQuery {
  return {
    country: b.country,
    type: b.type,
    pattern: b.npa ? `1${b.npa}` : b.pattern,
    match: b.npa ? 'starts' : b.match,
    features: b.features,
    size: b.size,
    index: b.index,
  };
}

export const provisionIn = z
  .object({ provider_account_id: z.uuid(), seller_id: z.uuid(), npa, country })
  .strict();

export const provisionBatchIn = z
  .object({
    provider_account_id: z.uuid(),
    seller_id: z.uuid(),
    country,
    items: z
      .array(z.object({ npa, count: z.number().int().min(1).max(1000) }).strict())
      .min(1)
      .max(1000)
      .refine((l) => l.reduce((s, i) => s + i.count, 0) <= 10_000, {
        message: 'at most 10,000 numbers a job',
      }),
  })
  .strict();

export const configureIn = z.object({ voice: voice.optional() }).strict();
export const numbersBatchIn = z
  .object({ numbers: z.array(e164).min(1).max(10_000), voice: voice.optional() })
  .strict();
export const releaseBatchIn = z.object({ numbers: z.array(e164).min(1).max(10_000) }).strict();
export const e164Params = z.object({ e164 });

export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().min(1).max(200).optional(),
});

export const jobAccepted = z.object({ job_id: z.uuid(), status: z.string(), total: z.number() });

export const jobOut = z.object({
  id: z.uuid(),
  kind: z.string(),
  status: z.string(),
  provider_account_id: z.uuid(),
  seller_id: z.uuid().nullable(),
  total: z.number(),
  done: z.number(),
  counts: z.record(z.string(), z.number()),
  /** An unfinished job whose provider account is disabled: its items wait until it is enabled. */
  account_disabled: z.boolean(),
  created_at: z.string(),
  finished_at: z.string().nullable(),
  items: z
    .array(
      z.object({
        idx: z.number(),
        input: z.record(z.string(), z.unknown()),
        state: z.string(),
        outcome: z.string().nullable(),
        result: z.record(z.string(), z.unknown()).nullable(),
        attempts: z.number(),
        latency_ms: z.number().nullable(),
      }),
    )
    .optional(),
});

export const numberOut = z.object({
  id: z.uuid(),
  e164: z.string(),
  country: z.string(),
  provider_account_id: z.uuid(),
  seller_id: z.uuid(),
  status: z.string(),
  did_id: z.uuid().nullable(),
  voice: z.object({ type: z.string(), value: z.string() }).nullable(),
  bought_at: z.string(),
  released_at: z.string().nullable(),
});

export const numberView = (n: NumberRow): z.infer<typeof numberOut> => ({
  id: n.id,
  e164: n.e164,
  country: n.country,
  provider_account_id: n.providerAccountId,
  seller_id: n.sellerId,
  status: n.status,
  did_id: n.didId,
  voice: n.voice ?? null,
  bought_at: n.boughtAt.toISOString(),
  released_at: n.releasedAt?.toISOString() ?? null,
});

export const webhookIn = z
  .object({
    url: z.url().max(2000),
    events: z.array(z.enum(WEBHOOK_EVENTS)).min(1),
    seller_id: z.uuid().optional(),
  })
  .strict();

/** A page of subscriptions: by state, event and seller (`every`: those to every seller's events). */
export const webhooksQuery = pageQuery.extend({
  active: queryBool.optional(),
  event: z.enum(WEBHOOK_EVENTS).optional(),
  seller_id: z.union([z.uuid(), z.literal('every')]).optional(),
  ...sortable(WEBHOOK_SORTS),
});
export type WebhooksQuery = z.infer<typeof webhooksQuery>;

/** What a subscription's owner may change after it is made: whether it is sent events. */
export const webhookPatch = z.object({ active: z.boolean() }).strict();

export const reconcileIn = z
  .object({ provider_account_id: z.uuid(), fix: z.boolean().default(false) })
  .strict();
export const reconcileOut = z.object({
  provider_account_id: z.uuid(),
  checked_at: z.string(),
  carrier_numbers: z.number(),
  our_numbers: z.number(),
  missing_at_carrier: z.array(z.object({ e164: z.string(), seller_id: z.uuid() })),
  unknown_to_us: z.array(
    z.object({
      e164: z.string(),
      subaccount: z.string().nullable(),
      seller_id: z.uuid().nullable(),
      action: z.enum(['adopt_for_item', 'release', 'adopt', 'report']).meta({
        description:
          "What fix does (or did) with it: a job item's late purchase becomes the item's answer " +
          '(adopt_for_item) or, when the item has another number, goes back to the carrier ' +
          "(release); an unclaimed number in a seller's subaccount becomes the seller's (adopt); " +
          'one on the primary account is only reported',
      }),
      job_id: z.uuid().optional(),
      item_id: z.uuid().optional(),
    }),
  ),
  fixed: z.object({ released: z.number(), adopted: z.number(), released_at_carrier: z.number() }).nullable(),
});

export const groupOut = z.object({
  provider_account_id: z.uuid(),
  seller_id: z.uuid(),
  subaccount: z.string().nullable(),
  voice: z.object({ type: z.string(), value: z.string() }).nullable(),
  sip_domain: z.string().nullable(),
});
export const groupView = (g: GroupRow): z.infer<typeof groupOut> => ({
  provider_account_id: g.providerAccountId,
  seller_id: g.sellerId,
  subaccount: g.subaccountKey,
  voice: g.voice ?? null,
  sip_domain: g.sipDomain,
});

export const searchOut = z.object({
  count: z.number(),
  numbers: z.array(
    z.object({
      e164: z.string(),
      country: z.string(),
      type: z.string(),
      features: z.array(z.string()),
      cost: z.string().optional(),
    }),
  ),
});

export const webhookOut = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  seller_id: z.uuid().nullable(),
  active: z.boolean(),
  created_at: z.string(),
});
export const webhookView = (s: typeof webhookSubscriptions.$inferSelect) => ({
  id: s.id,
  url: s.url,
  events: s.events,
  seller_id: s.sellerId,
  active: s.active,
  created_at: s.createdAt.toISOString(),
});
export const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) });
export const deliveriesOut = z.object({
  items: z.array(
    z.object({
      id: z.number(),
      event: z.string(),
      event_id: z.uuid(),
      status: z.string(),
      attempts: z.number(),
      last_status: z.number().nullable(),
      last_error: z.string().nullable(),
      created_at: z.string(),
      delivered_at: z.string().nullable(),
    }),
  ),
});
export const deliveryView = (d: typeof webhookDeliveries.$inferSelect) => ({
  id: d.id,
  event: d.event,
  event_id: d.eventId,
  status: d.status,
  attempts: d.attempts,
  last_status: d.lastStatus,
  last_error: d.lastError,
  created_at: d.createdAt.toISOString(),
  delivered_at: d.deliveredAt?.toISOString() ?? null,
});
export const testDeliveryOut = z.object({ delivery_id: z.number() });
