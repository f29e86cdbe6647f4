// Sellers: request and response shapes, and the row as the API shows it.
import { z } from 'zod';
import type { SellerRow } from '../repository.ts';
import { capFields, capsOut, capValues, toCaps } from './common.ts';

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
