// Buyer groups: request and response shapes, and the row as the API shows it.
import { z } from 'zod';
import { ianaZone } from '../../platform/http/input.ts';
import type { GroupRow } from '../repository.ts';
import { capFields, capsOut, capValues, toCaps } from './common.ts';

export const groupBody = z
  .object({ name: z.string().trim().min(1).max(200), timezone: ianaZone.nullable().optional(), ...capFields })
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
