import { loadDbConfig } from '../config.ts';
import { runMigrations } from '../platform/db.ts';
import { safeUrl } from '../main.ts';

export const usage = `usage: capconduit migrate

Applies the migrations in drizzle/ to the database of DATABASE_URL (environment or .env); a no-op
when it is current. Run it before starting a new version.
`;

export async function run(_argv: string[]): Promise<number> {
  const { DATABASE_URL } = loadDbConfig();
  const r = await runMigrations(DATABASE_URL);
  process.stdout.write(
    r.applied
      ? `applied ${r.applied} migration(s) to ${safeUrl(DATABASE_URL)}\n`
      : `database is up to date (${safeUrl(DATABASE_URL)})\n`,
  );
  return 0;
}
