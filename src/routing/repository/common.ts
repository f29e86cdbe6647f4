// What every part of the routing repository shares: the row types, the list page, and the
// transaction-or-database handle changes run on.
import { count, type SQL } from 'drizzle-orm';
import type {
  buyerGroups,
  callerBlocks,
  campaigns,
  clients,
  dids,
  links,
  sellers,
} from '../../db/schema/routing.ts';
import type { Db, ListSort } from '../../platform/db.ts';

// The one ORDER BY rule of lists lives in platform/db.ts (every domain's lists share it).
export { type ListSort, orderOf } from '../../platform/db.ts';

export type SellerRow = typeof sellers.$inferSelect;
export type ClientRow = typeof clients.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
export type DidRow = typeof dids.$inferSelect;
export type LinkRow = typeof links.$inferSelect;
export type CallerBlockRow = typeof callerBlocks.$inferSelect;
export type GroupRow = typeof buyerGroups.$inferSelect;
export type Page = { limit: number; offset: number; order?: ListSort | undefined };

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
