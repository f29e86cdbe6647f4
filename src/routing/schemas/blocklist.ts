// Caller blocklists: request and response shapes, and an entry as the API shows it.
import { z } from 'zod';
import { pageQuery } from '../../platform/http/paging.ts';
import type { CallerBlockRow } from '../repository.ts';
import { e164 } from './common.ts';

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
