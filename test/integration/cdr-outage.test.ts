// Invariant 4: every routed call gets exactly one CDR, even across a PostgreSQL outage.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cdrMetrics } from '../../src/cdr/metrics.ts';
import { type CdrRecord, CdrWriter } from '../../src/cdr/writer.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { journalDir } from '../helpers/env.ts';
import { PrivatePostgres } from '../helpers/private-pg.ts';

const rec = (i: number): CdrRecord => ({
  call_id: `call-${i}`,
  node_id: 'n1',
  seller_id: null,
  campaign_id: null,
  did: '+14155550100',
  caller_number: '+12125550000',
  client_id: null,
  started_at: new Date(1_800_000_000_000 + i * 1000).toISOString(),
  answered_at: null,
  ended_at: new Date(1_800_000_000_000 + i * 1000 + 5000).toISOString(),
  duration_s: 5,
  billable_s: 0,
  disposition: 'all_failed',
  hangup_cause: 17,
  attempts: [{ link_id: 'l', client_id: 'c', leg_id: `leg-${i}`, result: 'busy' }],
});

async function until(f: () => Promise<boolean>, ms = 60_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f().catch(() => false)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe('CDR write path', () => {
  let pg: PrivatePostgres;
  let dir: string;
  beforeAll(async () => {
    pg = await PrivatePostgres.create();
    dir = journalDir();
  });
  afterAll(() => {
    pg?.destroy();
  });

  it('keeps every CDR through a PostgreSQL outage and writes each exactly once after it returns', async () => {
    const sql = postgres(pg.url, { max: 2, onnotice: () => {}, connect_timeout: 2 });
    const w = new CdrWriter(sql, dir, 'i1', createLogger({ level: 'silent' }), 100);
    w.start();
    const count = async () => Number((await sql`select count(*)::int as n from call_records`)[0]!.n);
    try {
      await Promise.all(Array.from({ length: 20 }, (_, i) => w.write(rec(i))));
      expect(await until(async () => (await count()) === 20)).toBe(true);

      pg.stop();
      // Calls keep ending while PostgreSQL is down: writes are acknowledged from the journal.
      await Promise.all(Array.from({ length: 30 }, (_, i) => w.write(rec(20 + i))));
      await w.flush();
      expect(w.pending).toBeGreaterThanOrEqual(30);

      // A crash-restart replay of an already-written record must not duplicate it.
      await w.write(rec(3));
      pg.start();
      expect(await until(async () => (await count()) === 50 && w.pending === 0)).toBe(true);
      const ids = (await sql`select call_id from call_records`).map((r) => r.call_id as string);
      expect(new Set(ids).size).toBe(50);
    } finally {
      await w.stop();
      await sql.end({ timeout: 1 });
    }
  }, 60_000);

  it('sets aside a record PostgreSQL refuses for its content and writes the others, then and later', async () => {
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    const dir3 = journalDir();
    const w = new CdrWriter(sql, dir3, 'i3', createLogger({ level: 'silent' }), 60_000);
    const registry = new Registry();
    cdrMetrics(registry, w);
    const ids = (xs: number[]) => xs.map((i) => `call-${i}`);
    const written = async (xs: number[]) =>
      (await sql`select count(*)::int as n from call_records where call_id = any(${ids(xs)})`)[0]!.n;
    try {
      // An empty string where a uuid belongs: the same insert fails the same way every time.
      const bad = { ...rec(200), client_id: '' };
      await Promise.all([w.write(rec(201)), w.write(bad), w.write(rec(202))]);
      await w.flush();
      expect(await written([200, 201, 202])).toBe(2);
      expect(w.rejected).toBe(1);
      expect(w.pending).toBe(0);
      // Counted where an operator looks (and alerts/dashboards read).
      const text = await registry.metrics();
      expect(text).toMatch(/^capconduit_cdr_rejected_total 1$/m);
      expect(text).toMatch(/^capconduit_cdr_pending 0$/m);
      const aside = readFileSync(join(dir3, 'rejected-i3.jsonl'), 'utf8').trim().split('\n');
      expect(aside.map((l) => (JSON.parse(l) as { record: CdrRecord }).record.call_id)).toEqual(['call-200']);
      // Records after it are not held behind it.
      await w.write(rec(203));
      await w.flush();
      expect(await written([203])).toBe(1);
    } finally {
      await w.stop();
      await sql.end({ timeout: 1 });
    }
  });

  it('replays journals left by a previous process at start', async () => {
    const sql = postgres(pg.url, { max: 2, onnotice: () => {} });
    const dir2 = journalDir();
    try {
      // "Crash": records on disk, never flushed.
      const dead = new CdrWriter(sql, dir2, 'i2', createLogger({ level: 'silent' }), 60_000);
      await Promise.all([dead.write(rec(100)), dead.write(rec(101))]);
      const fresh = new CdrWriter(sql, dir2, 'i2', createLogger({ level: 'silent' }), 100);
      fresh.start();
      expect(
        await until(
          async () =>
            (
              await sql`select count(*)::int as n from call_records where call_id in ('call-100','call-101')`
            )[0]!.n === 2,
        ),
      ).toBe(true);
      await fresh.stop();
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});
