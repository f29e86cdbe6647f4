// DIDs: request and response shapes, and the row as the API shows it (the carrier's costs to staff only).
import { z } from 'zod';
import { queryBool } from '../../platform/http/input.ts';
import { pageQuery, sortable } from '../../platform/http/paging.ts';
import { DID_SORTS, type DidRow } from '../repository.ts';
import { capFields, capsOut, e164, micros, ownerSeller, toCaps } from './common.ts';

// A DID's caps are the operator's (staff): a seller key may not set them (FORBIDDEN_ROLE).
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
    /** false: the number takes no call (its CDR says `did_inactive`); true when left out. */
    active: z.boolean().optional(),
    ...capFields,
    ...didCostFields,
  })
  .strict();
export const didPatchBody = z
  .object({
    campaign_id: z.uuid().nullable().optional(),
    active: z.boolean().optional(),
    ...capFields,
    ...didCostFields,
  })
  .strict();
export type DidPatch = z.infer<typeof didPatchBody>;
export const didsQuery = pageQuery.extend({
  campaign_id: z.uuid().optional(),
  /** Staff: one seller's DIDs (a seller key sees its own whatever this says). */
  seller_id: z.uuid().optional(),
  /** true: routed to a campaign; false: routed nowhere. */
  routed: queryBool.optional(),
  /** true: switched on; false: switched off (takes no call). */
  active: queryBool.optional(),
  /** Part of the number, as people write it (spaces, brackets, dots and dashes are dropped). */
  number: z
    .string()
    .trim()
    .max(32)
    .regex(/^[+\d\s().-]*$/, 'digits, spaces, brackets, dots and dashes only')
    .transform((v) => v.replace(/\D/g, '') || undefined)
    .optional(),
  /** Held at this provider account (bought through it, not released); `manual`: at none. */
  provider_account_id: z.union([z.uuid(), z.literal('manual')]).optional(),
  ...sortable(DID_SORTS),
});
export const didOut = z.object({
  id: z.uuid(),
  number: z.string(),
  seller_id: z.uuid(),
  campaign_id: z.uuid().nullable(),
  active: z.boolean(),
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
  active: r.active,
  ...toCaps(r),
  ...(staff ? { rate_per_min_micros: r.ratePerMinMicros, monthly_rent_micros: r.monthlyRentMicros } : {}),
  created_at: r.createdAt.toISOString(),
});
