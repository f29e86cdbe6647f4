// The bulk fill of the report rollups (bench/reports and migrations use it over stored calls) gives
// exactly the rows the CDR writer keeps batch by batch, on random samples: one grouped insert per
// table against many upserts, the same arithmetic.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import postgres, { type Sql } from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrWriter } from '../../src/cdr/writer.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { ROLLUP_TABLES, rollupFillSql } from '../../src/reports/rollup.ts';
import { freshDatabase, journalDir } from '../helpers/env.ts';
import { cdrsArb } from '../helpers/random-cdrs.ts';

const log = createLogger({ level: 'silent' });

/** Every row of every rollup table, as sorted JSON (a table's rows form a set). */
async function snapshot(sql: Sql): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const t of ROLLUP_TABLES)
    out[t] = (await sql.unsafe(`select to_jsonb(r)::text j from ${t} r order by 1`)).map(
      (r) => r.j as string,
    );
  return out;
}

describe('report rollups: bulk fill = the writer', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sql: Sql;
  let dir: string;
  beforeAll(async () => {
    db = await freshDatabase();
    sql = postgres(db.url, { max: 2, onnotice: () => {} });
    dir = journalDir();
  });
  afterAll(async () => {
    await sql?.end();
    await db?.drop();
  });

  it('random calls across quarter, hour, day and month edges: identical rows in every rollup', async () => {
    // 30 Jan - 2 Feb: a month boundary inside.
    const from = Date.UTC(2026, 0, 30);
    await fc.assert(
      fc.asyncProperty(cdrsArb(from, 4, 120), fc.integer({ min: 1, max: 25 }), async (cdrs, batch) => {
        await sql.unsafe(`truncate call_records, ${ROLLUP_TABLES.join(', ')}`);
        // Through the writer, in batches of `batch` (each its own transaction and rollup upsert).
        const w = new CdrWriter(sql, dir, 'fill', log, 60_000, batch);
        for (const r of cdrs) await w.write(r);
        await w.flush();
        expect(w.pending).toBe(0);
        const written = await snapshot(sql);
        // Not an empty comparison: calls that name a seller, campaign or client leave names (a
        // shrunk case of one call with none of them leaves none, rightly).
        const named = cdrs.some((r) => r.seller_name || r.campaign_name || r.client_name);
        expect(written.report_names!.length > 0).toBe(named);
        await sql.unsafe(`truncate ${ROLLUP_TABLES.join(', ')}`);
        for (const f of rollupFillSql()) await sql.unsafe(f.sql);
        expect(await snapshot(sql)).toEqual(written);
      }),
      { numRuns: 15 },
    );
  });

  it('the migration that added rollups fills them with these very statements', () => {
    const dir = join(import.meta.dirname, '../../drizzle');
    const all = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    for (const f of rollupFillSql().filter((x) =>
      ['report_campaign_rollups', 'report_did_days', 'report_did_month_days'].includes(x.table),
    ))
      expect(all, f.table).toContain(f.sql);
  });
});
