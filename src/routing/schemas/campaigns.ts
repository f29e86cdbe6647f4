// Campaigns: request and response shapes (the default route among them), and the row as the API shows it.
import { z } from 'zod';
import { type DefaultRoute, DUP_POLICIES, ROUTING_STRATEGIES } from '../../db/schema/routing.ts';
import { pageQuery } from '../../platform/http/paging.ts';
import type { CampaignRow } from '../repository.ts';
import { PLACE_CODE } from '../screen.ts';
import { ownerSeller } from './common.ts';

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
