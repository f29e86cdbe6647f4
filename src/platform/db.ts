// PostgreSQL for the whole daemon: one postgres.js pool with drizzle over it, migrations, and the
// list + count query every paged resource runs, with its allow-listed ordering.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, count, desc, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import { drizzle, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres, { type Sql } from 'postgres';
import * as schema from '../db/schema/index.ts';

export type Db = PostgresJsDatabase<typeof schema>;
export interface Database {
  db: Db;
  sql: Sql;
  close(): Promise<void>;
}

export const MIGRATIONS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'drizzle');

export function createDatabase(url: string, opts: { max?: number } = {}): Database {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // Keep the daemon alive through a PostgreSQL restart: connections are re-made lazily.
    idle_timeout: 30,
    connect_timeout: 5,
    // postgres.js waits 3^n/100 s (times 0.5-1) before a connect after n failed ones in a row, up to
    // 20 s: through an outage each query waited that long for its error (a console page took 20 s to
    // say the database is down), and once PostgreSQL was back the first queries still waited out the
    // last delay. At most 2 s: a refused connect costs PostgreSQL nothing, and the daemon is back
    // within 2 s of it.
    backoff: (n: number) => (0.5 + Math.random() / 2) * Math.min(3 ** n / 100, 2),
  });
  const db = drizzle(sql, { schema });
  return { db, sql, close: () => sql.end({ timeout: 5 }) };
}

/** Apply pending migrations; a no-op when the database is current. */
export async function runMigrations(url: string): Promise<{ applied: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const before = await appliedCount(sql);
    await migrate(drizzle(sql), { migrationsFolder: MIGRATIONS_DIR });
    const after = await appliedCount(sql);
    return { applied: after - before };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function journalCount(): number {
  const j = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta', '_journal.json'), 'utf8')) as {
    entries: unknown[];
  };
  return j.entries.length;
}

async function appliedCount(sql: Sql): Promise<number> {
  const [t] = await sql<{ exists: boolean }[]>`
    select exists (select 1 from information_schema.tables
      where table_schema = 'drizzle' and table_name = '__drizzle_migrations') as exists`;
  if (!t?.exists) return 0;
  const [r] = await sql<{ n: number }[]>`select count(*)::int as n from drizzle.__drizzle_migrations`;
  return r?.n ?? 0;
}

/** How many migrations the code ships that the database has not applied. */
export async function pendingMigrations(sql: Sql): Promise<number> {
  return Math.max(0, journalCount() - (await appliedCount(sql)));
}

/**
 * One page of a table's rows and how many rows match in all: `{items, total}`. The two queries run
 * one after the other on the pool (not in a transaction), so under concurrent writes the total may
 * differ from the rows by what changed in between, as any offset paging does.
 */
export async function listPage<T extends PgTable>(
  db: Db,
  table: T,
  q: { where?: SQL | undefined; orderBy: Array<PgColumn | SQL>; limit: number; offset: number },
): Promise<{ items: T['$inferSelect'][]; total: number }> {
  const items = await db
    .select()
    .from(table as PgTable)
    .where(q.where)
    .orderBy(...q.orderBy)
    .limit(q.limit)
    .offset(q.offset);
  return { items: items as T['$inferSelect'][], total: await countWhere(db, table, q.where) };
}

/** How many rows of `table` match `where` (all of them without one): a paged list's total. */
export async function countWhere(db: Db, table: PgTable, where?: SQL | undefined): Promise<number> {
  const [t] = await db.select({ n: count() }).from(table).where(where);
  return t!.n;
}

/** `%`, `_` and `\` taken literally in a LIKE pattern (a filter on part of a name or an email). */
export const likeLiteral = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** A list's order: one of its allow-listed columns (its `*_SORTS`), ascending or descending. */
export type ListSort = { sort: string; dir: 'asc' | 'desc' };

// Each list's `*_SORTS` (beside its resource) are the columns it may be ordered by (the console's
// column headers); anything else is the list's default order. The id breaks ties in the same
// direction, so pages of an order are stable.
/** ORDER BY of a list: the allow-listed column asked for and the id, else `fallback` (pure). */
export function orderOf(
  cols: Record<string, PgColumn | SQL>,
  id: PgColumn,
  o: ListSort | undefined,
  fallback: Array<PgColumn | SQL>,
): Array<PgColumn | SQL> {
  const col = o && Object.hasOwn(cols, o.sort) ? cols[o.sort] : undefined;
  if (!col || !o) return fallback;
  const by = o.dir === 'asc' ? asc : desc;
  return [by(col), by(id)];
}
