// Sellers: request and response shapes, and the row as the API shows it.
import { z } from 'zod';
import { pageQuery } from '../../platform/http/paging.ts';
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
  /** When it was archived (null: it is not): an archived seller routes nothing and is changed by nobody. */
  archived_at: z.string().nullable(),
  created_at: z.string(),
});
export const toSeller = (r: SellerRow) => ({
  id: r.id,
  name: r.name,
  active: r.active,
  ...toCaps(r),
  archived_at: r.archivedAt?.toISOString() ?? null,
  created_at: r.createdAt.toISOString(),
});
/** The sellers list: archived ones are left out unless asked for (`true`: only them; `any`: all). */
export const sellersQuery = pageQuery.extend({
  archived: z.enum(['false', 'true', 'any']).default('false'),
});
/** `archived` of the sellers query as the repository's filter (undefined: both). */
export const archivedFilter = (a: 'false' | 'true' | 'any') => (a === 'any' ? undefined : a === 'true');
/** A seller body as column values. */
export const sellerValues = <T extends Partial<SellerBody>>(b: T) => ({
  name: b.name,
  active: b.active,
  ...capValues(b),
});
