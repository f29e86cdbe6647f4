// The list shape every paged resource answers with: `?limit=&offset=` in, `{items, limit, offset,
// total}` out. The rows and their count come from `listPage` (src/platform/db.ts).
import { z } from 'zod';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof pageQuery>;

/**
 * A list's order in its query: `sort`, one of the list's allow-listed columns (the repository's
 * `*_SORTS`; anything else is a 400), and `dir` (ascending unless asked). Without `sort`, the
 * list's own default order.
 */
export const sortable = <K extends string>(cols: Record<K, unknown>) => ({
  sort: z.enum(Object.keys(cols) as [K, ...K[]]).optional(),
  dir: z.enum(['asc', 'desc']).default('asc'),
});
/** The repository's order from a query made with `sortable`. */
export const orderFrom = <K extends string>(q: { sort?: K | undefined; dir: 'asc' | 'desc' }) =>
  q.sort ? { sort: q.sort, dir: q.dir } : undefined;

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
