// What every part of the routing repository shares: the row types, the list page and its
// allow-listed ordering, and the transaction-or-database handle changes run on.
import { asc, count, desc, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type {
  buyerGroups,
  callerBlocks,
  campaigns,
  clients,
  dids,
  links,
  sellers,
} from '../../db/schema/routing.ts';
import type { Db } from '../../platform/db.ts';

export type SellerRow = typeof sellers.$inferSelect;
export type ClientRow = typeof clients.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
export type DidRow = typeof dids.$inferSelect;
export type LinkRow = typeof links.$inferSelect;
export type CallerBlockRow = typeof callerBlocks.$inferSelect;
export type GroupRow = typeof buyerGroups.$inferSelect;
/** A list's order: one of its allow-listed columns (below), ascending or descending. */
export type ListSort = { sort: string; dir: 'asc' | 'desc' };
export type Page = { limit: number; offset: number; order?: ListSort | undefined };

// Each list's `*_SORTS` (beside its resource) are the columns it may be ordered by (the console's
// column headers); anything else is the list's default order. The id breaks ties in the same
// direction, so pages of an order are stable.
/** ORDER BY of a list: the allow-listed column asked for and the id, else `fallback` (pure). */
export function orderOf(
  cols: Record<string, PgColumn>,
  id: PgColumn,
  o: ListSort | undefined,
  fallback: Array<PgColumn | SQL>,
): Array<PgColumn | SQL> {
  const col = o && Object.hasOwn(cols, o.sort) ? cols[o.sort] : undefined;
  if (!col || !o) return fallback;
  const by = o.dir === 'asc' ? asc : desc;
  return [by(col), by(id)];
}
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database, or the caller's transaction (changes run in one, with their audit rows). */
export type Q = Db | Tx;
export type Values<T extends { $inferInsert: unknown }> = Partial<T['$inferInsert']>;

export const countWhere = async (
  db: Db,
  table: typeof campaigns | typeof dids | typeof links,
  where: SQL,
) => {
  const [t] = await db.select({ n: count() }).from(table).where(where);
  return t!.n;
};
