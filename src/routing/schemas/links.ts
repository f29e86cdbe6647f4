// Links between campaigns and clients: request and response shapes, and the row as the API shows it.
import { z } from 'zod';
import { parseIncrement } from '../../cdr/money.ts';
import { CAP_COUNTS, type HourlyConcurrency } from '../../db/schema/routing.ts';
import type { LinkRow } from '../repository.ts';
import { capFields, micros } from './common.ts';

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
