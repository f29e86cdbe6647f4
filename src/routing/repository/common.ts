// What every part of the routing repository shares: the row types, the list page, and the
// transaction-or-database handle changes run on.
import { and, desc, eq, ilike, isNotNull, isNull, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type {
  buyerGroups,
  callerBlocks,
  campaigns,
  clients,
  dids,
  links,
  sellers,
} from '../../db/schema/routing.ts';
import { type Db, type ListSort, likeLiteral, listPage, orderOf } from '../../platform/db.ts';

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

/**
 * A list of sellers, clients or buyer groups filtered: part of the name (any case), active or not,
 * archived or not (sellers; left out: both).
 */
export type OwnerFilter = {
  name?: string | undefined;
  active?: boolean | undefined;
  archived?: boolean | undefined;
};

/** The WHERE of an OwnerFilter over a table's name and (when it has them) active and archived columns. */
export function ownerWhere(
  cols: { name: PgColumn; active?: PgColumn; archivedAt?: PgColumn },
  f: OwnerFilter,
): SQL | undefined {
  const w: SQL[] = [];
  if (f.name) w.push(ilike(cols.name, `%${likeLiteral(f.name)}%`));
  if (f.active !== undefined && cols.active) w.push(eq(cols.active, f.active));
  if (f.archived !== undefined && cols.archivedAt)
    w.push(f.archived ? isNotNull(cols.archivedAt) : isNull(cols.archivedAt));
  return w.length ? and(...w) : undefined;
}

/** A table of owners (sellers, clients, buyer groups): what their lists filter and order on. */
type OwnerTable = PgTable & {
  id: PgColumn;
  name: PgColumn;
  createdAt: PgColumn;
  active?: PgColumn;
  archivedAt?: PgColumn;
};

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database, or the caller's transaction (changes run in one, with their audit rows). */
export type Q = Db | Tx;
export type Values<T extends { $inferInsert: unknown }> = Partial<T['$inferInsert']>;

/**
 * The statements sellers, clients and buyer groups share, written once: a page of them (the
 * OwnerFilter applied, in the order asked for among the table's `sorts`, else newest first), and one
 * row by its id read, looked for, inserted, changed.
 */
export function ownerRows<T extends OwnerTable>(table: T, sorts: Record<string, PgColumn>) {
  type Row = T['$inferSelect'];
  return {
    list: (db: Db, p: Page & OwnerFilter) =>
      listPage(db, table, {
        where: ownerWhere(
          {
            name: table.name,
            ...(table.active ? { active: table.active } : {}),
            ...(table.archivedAt ? { archivedAt: table.archivedAt } : {}),
          },
          p,
        ),
        orderBy: orderOf(sorts, table.id, p.order, [desc(table.createdAt)]),
        limit: p.limit,
        offset: p.offset,
      }),
    byId: async (db: Db, id: string): Promise<Row | null> => {
      // As listPage: drizzle's select cannot infer the row of a generic table, so it is named here.
      const [r] = (await db
        .select()
        .from(table as PgTable)
        .where(eq(table.id, id))) as Row[];
      return r ?? null;
    },
    exists: async (db: Db, id: string): Promise<boolean> => {
      const [r] = await db
        .select({ id: table.id })
        .from(table as PgTable)
        .where(eq(table.id, id));
      return r !== undefined;
    },
    insert: async (db: Q, v: T['$inferInsert']): Promise<Row> => {
      const [r] = await db.insert(table).values(v).returning();
      return r as Row;
    },
    update: async (db: Q, id: string, v: Values<T>): Promise<Row | null> => {
      const [r] = await db.update(table).set(v).where(eq(table.id, id)).returning();
      return (r as Row | undefined) ?? null;
    },
  };
}
