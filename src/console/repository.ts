// Every SQL statement of the console domain (its users; the resources it shows belong to their
// own domains' services).
import { asc, count, eq, sql } from 'drizzle-orm';
import { mapDbError } from '../platform/pg-errors.ts';
import type { Db } from '../platform/db.ts';
import { type ConsoleRole, consoleUsers } from '../db/schema/console.ts';
import { sellers } from '../db/schema/routing.ts';

export type ConsoleUserRow = typeof consoleUsers.$inferSelect;

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

  async list(limit: number, offset: number) {
    const rows = await this.db
      .select({ user: consoleUsers, sellerName: sellers.name })
      .from(consoleUsers)
      .leftJoin(sellers, eq(sellers.id, consoleUsers.sellerId))
      .orderBy(asc(consoleUsers.email))
      .limit(limit)
      .offset(offset);
    const [t] = await this.db.select({ n: count() }).from(consoleUsers);
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

  async sellerExists(id: string): Promise<boolean> {
    const [r] = await this.db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, id));
    return !!r;
  }
}
