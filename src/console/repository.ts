// Every SQL statement of the console domain (its users; the resources it shows belong to their
// own domains' services).
import { sellerArchived } from '../routing/repository/sellers.ts';
import { and, asc, count, eq, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import { mapDbError } from '../platform/pg-errors.ts';
import type { Db } from '../platform/db.ts';
import { type ConsoleRole, consoleUsers } from '../db/schema/console.ts';
import { sellers } from '../db/schema/routing.ts';
import { likeLiteral, type ListSort, orderOf } from '../platform/db.ts';

export type ConsoleUserRow = typeof consoleUsers.$inferSelect;

/** The most sellers a form lists by name; with more, the forms take a seller's id. */
export const SELLER_OPTIONS_MAX = 1000;

/** The columns the users list may be ordered by (its column headers); the id breaks ties. */
export const USER_SORTS = {
  email: consoleUsers.email,
  role: consoleUsers.role,
  seller: sellers.name,
  disabled: consoleUsers.disabledAt,
  last_sign_in: consoleUsers.lastSignInAt,
  created_at: consoleUsers.createdAt,
};
export type UserSort = keyof typeof USER_SORTS;

export interface UserFilter {
  /** Part of the email, any case. */
  email?: string | undefined;
  role?: ConsoleRole | undefined;
  sellerId?: string | undefined;
  state?: 'active' | 'disabled' | undefined;
}

export class ConsoleRepository {
  constructor(private db: Db) {}

  async byEmail(email: string): Promise<ConsoleUserRow | null> {
    const [r] = await this.db.select().from(consoleUsers).where(eq(consoleUsers.email, email)).limit(1);
    return r ?? null;
  }

  async byId(id: string): Promise<ConsoleUserRow | null> {
    const [r] = await this.db.select().from(consoleUsers).where(eq(consoleUsers.id, id)).limit(1);
    return r ?? null;
  }

  async list(f: UserFilter, p: { limit: number; offset: number; order?: ListSort | undefined }) {
    const conds: SQL[] = [];
    if (f.email) conds.push(sql`${consoleUsers.email} like ${`%${likeLiteral(f.email.toLowerCase())}%`}`);
    if (f.role) conds.push(eq(consoleUsers.role, f.role));
    if (f.sellerId) conds.push(eq(consoleUsers.sellerId, f.sellerId));
    if (f.state === 'active') conds.push(isNull(consoleUsers.disabledAt));
    if (f.state === 'disabled') conds.push(isNotNull(consoleUsers.disabledAt));
    const where = conds.length ? and(...conds) : undefined;
    const rows = await this.db
      .select({ user: consoleUsers, sellerName: sellers.name })
      .from(consoleUsers)
      .leftJoin(sellers, eq(sellers.id, consoleUsers.sellerId))
      .where(where)
      .orderBy(...orderOf(USER_SORTS, consoleUsers.id, p.order, [asc(consoleUsers.email)]))
      .limit(p.limit)
      .offset(p.offset);
    const [t] = await this.db.select({ n: count() }).from(consoleUsers).where(where);
    return { rows, total: t!.n };
  }

  async insert(v: {
    email: string;
    passwordHash: string;
    role: ConsoleRole;
    sellerId: string | null;
  }): Promise<ConsoleUserRow> {
    const [r] = await this.db
      .insert(consoleUsers)
      .values(v)
      .returning()
      .catch((e) => mapDbError(e, 'console user'));
    return r!;
  }

  async update(
    id: string,
    v: Partial<Pick<ConsoleUserRow, 'role' | 'sellerId' | 'passwordHash' | 'totpSecret' | 'disabledAt'>>,
  ): Promise<ConsoleUserRow | null> {
    const [r] = await this.db
      .update(consoleUsers)
      .set({ ...v, updatedAt: sql`now()` })
      .where(eq(consoleUsers.id, id))
      .returning()
      .catch((e) => mapDbError(e, 'console user'));
    return r ?? null;
  }

  async signedIn(id: string): Promise<void> {
    await this.db.update(consoleUsers).set({ lastSignInAt: sql`now()` }).where(eq(consoleUsers.id, id));
  }

  async remove(id: string): Promise<boolean> {
    return (
      (await this.db.delete(consoleUsers).where(eq(consoleUsers.id, id)).returning({ id: consoleUsers.id }))
        .length > 0
    );
  }

  /** Admins able to sign in: the last one may not be removed, demoted or disabled. */
  async activeAdmins(): Promise<number> {
    const [r] = await this.db
      .select({ n: count() })
      .from(consoleUsers)
      .where(sql`${consoleUsers.role} = 'admin' and ${consoleUsers.disabledAt} is null`);
    return r!.n;
  }

  /** Sellers to bind a seller user to (not archived ones), or to filter the users by, by name. */
  async sellerOptions(): Promise<Array<{ id: string; name: string; archived: boolean }>> {
    return this.db
      .select({
        id: sellers.id,
        name: sellers.name,
        archived: sql<boolean>`${sellers.archivedAt} is not null`,
      })
      .from(sellers)
      .orderBy(asc(sellers.name), asc(sellers.id))
      .limit(1000);
  }

  /** Whether a seller exists, and if so whether it is archived (null: no such seller). */
  sellerArchived(id: string): Promise<boolean | null> {
    return sellerArchived(this.db, id);
  }
}
