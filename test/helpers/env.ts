// Per-test-file isolation on the real servers: a fresh database cloned from the migrated
// template, and a random Redis key prefix.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { parseConfig, type Config } from '../../src/config.ts';
import { TEMPLATE_DB, withDb } from '../global-setup.ts';

export const TEST_MASTER_KEY = '00'.repeat(32);

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
  // CREATE DATABASE ... TEMPLATE fails while another session is connected to the template,
  // and test files start in parallel: retry briefly.
  for (let i = 0; ; i++) {
    try {
      await admin.unsafe(`create database ${name} template ${TEMPLATE_DB}`);
      break;
    } catch (e) {
      if (i > 50) throw e;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 100));
    }
  }
  await admin.end();
  return {
    url: withDb(base, name),
    async drop() {
      const a = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

export function redisPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`;
}

/** CDR journal folders testConfig made, removed when the test process exits. */
const journalDirs: string[] = [];
let removeJournalDirsAtExit = false;

/**
 * A CDR journal folder of its own for a test's daemon (or CDR writer), removed when the test process
 * exits: the default (.data/cdr-buffer in the checkout) is shared with every other daemon started
 * there, and a daemon replays the records it finds in its journal at start, so a demo's calls would
 * land in the test's database. testConfig makes one when not given; a test asks for one itself when
 * it reads the folder or gives it to several daemons in turn.
 */
export function journalDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cc-cdr-'));
  journalDirs.push(dir);
  if (!removeJournalDirsAtExit) {
    removeJournalDirsAtExit = true;
    process.once('exit', () => {
      for (const d of journalDirs) rmSync(d, { recursive: true, force: true });
    });
  }
  return dir;
}

export function testConfig(over: Record<string, string> = {}): Config {
  return parseConfig({
    CDR_BUFFER_DIR: over.CDR_BUFFER_DIR ?? journalDir(),
    NODE_ENV: 'test',
    DATABASE_URL: process.env.DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL,
    MASTER_KEY: TEST_MASTER_KEY,
    API_PORT: '0',
    LOG_LEVEL: 'silent',
    REDIS_KEY_PREFIX: redisPrefix(),
    // Tests that are not about per-key limits (the API fuzz sends thousands of requests with one
    // key) must not meet them; the tests of the limits set their own.
    API_RATE_LIMIT_PER_MIN: '0',
    API_RATE_LIMIT_DIALER_PER_MIN: '0',
    // The test process's own event loop is often late on a busy machine (simulator, daemon and test
    // in one process): calls the tests place must not be shed for it. The shedding test sets its own.
    EVENT_LOOP_SHED_MS: '0',
    ...over,
  });
}
