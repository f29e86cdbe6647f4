// The list shape every paged resource answers with: `?limit=&offset=` in, `{items, limit, offset,
// total}` out. The rows and their count come from `listPage` (src/platform/db.ts).
import { z } from 'zod';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof pageQuery>;

/** The response schema of a page of `item`. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), limit: z.number(), offset: z.number(), total: z.number() });

/** A page's response body: the rows shown through `out`, with the query's limit and offset. */
export function pageBody<R, O>(
  q: { limit: number; offset: number },
  rows: { items: R[]; total: number },
  out: (r: R) => O,
) {
  return { items: rows.items.map(out), limit: q.limit, offset: q.offset, total: rows.total };
}

export const idParams = z.object({ id: z.uuid() });
