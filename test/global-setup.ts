// Runs once per `vitest run`: makes sure PostgreSQL and Redis are up (through the project's own
// script unless DATABASE_URL/REDIS_URL are set) and prepares a migrated template database that
// every test file clones, so test files never share tables.
import { execFileSync } from 'node:child_process';
import postgres from 'postgres';
import { runMigrations } from '../src/platform/db.ts';
import { removeOldDaemonBuilds } from './helpers/daemon-build.ts';

export const TEMPLATE_DB = 'capconduit_test_template';

export default async function setup() {
  removeOldDaemonBuilds();
  if (!process.env.DATABASE_URL || !process.env.REDIS_URL) {
    const out = execFileSync('bash', ['scripts/services.sh', 'env'], { encoding: 'utf8' });
    for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]!] ??= m[2]!.replace(/^'|'$/g, '');
  }
  const base = process.env.DATABASE_URL!;
  const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists ${TEMPLATE_DB} with (force)`);
    await admin.unsafe(`create database ${TEMPLATE_DB}`);
    await runMigrations(withDb(base, TEMPLATE_DB));
    // Drop databases left behind by earlier runs that were killed.
    const old = await admin<
      { datname: string }[]
    >`select datname from pg_database where datname like 't\\_%'`;
    for (const d of old)
      await admin.unsafe(`drop database if exists "${d.datname}" with (force)`).catch(() => {});
  } finally {
    await admin.end();
  }
}

export function withDb(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}
