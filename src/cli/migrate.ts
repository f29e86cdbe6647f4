import { loadDbConfig } from '../config.ts';
import { runMigrations } from '../db/client.ts';
import { safeUrl } from '../main.ts';

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
