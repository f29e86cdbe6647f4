// Bulk import of caller IDs from CSV, shared by POST /v1/caller-ids/import and
// `capconduit import-cids`: streamed (csv-parse), validated line by line, upserted in batches
// (idempotent: ON CONFLICT DO UPDATE), then placed in the pools' Redis state. Bad lines are
// reported with their line number and reason; the valid ones are imported. One record is one line:
// a line with broken quoting is rejected alone (platform/csv.ts), it never swallows the lines after it.
import type { Readable } from 'node:stream';
import { Parser } from 'csv-parse';
import type { Sql } from 'postgres';
import { type BadLine, csvLineOptions, QuoteLineGuard } from '../platform/csv.ts';
import { factsOf, normaliseNumber } from './decide.ts';
import { CallerIdRepository, type ImportRow } from './repository.ts';
import type { ImportedNumber } from './hotstate.ts';

export const POOL_ID = /^[A-Za-z0-9_.-]{1,64}$/;
// `pool` names the number's pool; `campaign` is its older name (files made for VICIdial use it).
const COLUMNS = [
  'caller_id',
  'carrier',
  'area_code',
  'daily_limit',
  'hourly_limit',
  'state',
  'pool',
  'campaign',
];

export interface ImportResult {
  lines: number;
  imported: number;
  /** The first MAX_REJECTED rejected lines; `rejected_total` counts them all. */
  rejected: Array<{ line: number; reason: string }>;
  rejected_total: number;
  pools_created: string[];
}

export class CsvHeaderError extends Error {}

/** Where imported numbers go live: the hot state (CallerIdService), or nowhere (null). */
export interface ImportTarget {
  syncPoolConfig(pool: string): Promise<void>;
  placeImported(rows: ImportedNumber[]): Promise<void>;
}

type Row = ImportRow;

// A file of nothing but bad lines must not make an answer as large as itself.
export const MAX_REJECTED = 10_000;

function limit(v: string | undefined, name: string): { v: string } | { err: string } {
  const s = (v ?? '').trim();
  if (s === '') return { v: '' };
  if (!/^\d{1,9}$/.test(s)) return { err: `${name} must be a whole number >= 0 (got "${s.slice(0, 40)}")` };
  return { v: String(Number(s)) };
}

/**
 * csv-parse's stream, each record paired with the line it ends on, read from the parser's live
 * `info` as the record is pushed: the `info` option copies a dozen fields into every record, which
 * cost about as much as the parse itself.
 */
class LineParser extends Parser {
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    return super.push(chunk === null ? null : { record: chunk, line: this.info.lines }, encoding);
  }
}

/** The header's column names, or why the file is refused whole. */
function headerOf(fields: string[]): string[] {
  const cols = fields.map((h) => h.trim().toLowerCase());
  const unknown = cols.filter((c) => !COLUMNS.includes(c));
  if (!cols.includes('caller_id')) throw new CsvHeaderError('the header must name a caller_id column');
  if (unknown.length) throw new CsvHeaderError(`unknown column(s): ${unknown.join(', ')}`);
  if (cols.includes('pool') && cols.includes('campaign'))
    throw new CsvHeaderError('name the pool column once: pool or campaign (its older name)');
  return cols;
}

/** Validates one CSV record into a row, or the reason it is rejected (pure). */
export function validateRecord(
  rec: Record<string, string | undefined>,
  defaultPool: string | null,
): Row | string {
  const raw = (rec.caller_id ?? '').trim();
  if (!raw) return 'caller_id is empty';
  const number = normaliseNumber(raw);
  if (!number) return `caller_id "${raw.slice(0, 40)}" is not a valid phone number`;
  const facts = factsOf(number);
  const ac = (rec.area_code ?? '').trim();
  if (ac && !/^\d{3}$/.test(ac)) return `area_code "${ac.slice(0, 40)}" must be 3 digits`;
  if (ac && facts.npa && ac !== facts.npa)
    return `area_code ${ac} does not match the number's area code ${facts.npa}`;
  const st = (rec.state ?? '').trim().toUpperCase();
  if (st && !/^[A-Z]{2}$/.test(st)) return `state "${st.slice(0, 40)}" must be a 2-letter code`;
  const h = limit(rec.hourly_limit, 'hourly_limit');
  if ('err' in h) return h.err;
  const d = limit(rec.daily_limit, 'daily_limit');
  if ('err' in d) return d.err;
  const pool = (rec.pool ?? rec.campaign ?? '').trim() || defaultPool || '';
  if (pool && !POOL_ID.test(pool))
    return `${rec.pool !== undefined ? 'pool' : 'campaign'} "${pool.slice(0, 40)}" must be 1-64 letters, digits, _ . -`;
  const carrier = (rec.carrier ?? '').trim();
  if (carrier.length > 100) return 'carrier is longer than 100 characters';
  return {
    number,
    carrier,
    npa: ac || facts.npa || '',
    state: st || facts.state || '',
    hourly: h.v,
    daily: d.v,
    pool,
  };
}

export async function importCallerIds(
  sql: Sql,
  service: ImportTarget | null,
  input: Readable,
  o: { defaultPool?: string | null; batchSize?: number; onProgress?: (lines: number) => void } = {},
): Promise<ImportResult> {
  const batchSize = o.batchSize ?? 2000;
  const repo = new CallerIdRepository(sql);
  const result: ImportResult = { lines: 0, imported: 0, rejected: [], rejected_total: 0, pools_created: [] };
  const knownPools = new Set<string>();
  const reject = (line: number, reason: string) => {
    result.rejected_total++;
    if (result.rejected.length < MAX_REJECTED) result.rejected.push({ line, reason });
  };
  // Records as arrays, the header mapped here: cheaper than csv-parse's per-record objects, and a
  // record's own field count is what says it has too many (csv-parse's invalid_field_length counts
  // every such record so far, so one long line used to reject all the lines after it).
  // Lines with broken quoting, in the order found; the guard runs ahead of the parser, so the header
  // is known to be bad when such a line comes before the record read as the header.
  const bad: BadLine[] = [];
  const onBad = (b: BadLine) => {
    if (!header) return void bad.push(b);
    result.lines++;
    reject(b.line, b.reason);
  };
  const parser = input.pipe(new QuoteLineGuard(onBad)).pipe(
    new LineParser({
      bom: true,
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      ...csvLineOptions(onBad),
    }),
  );
  let header: string[] | null = null;
  const recordOf = (fields: string[]) => {
    const rec: Record<string, string | undefined> = {};
    for (let i = 0; i < header!.length; i++) rec[header![i]!] = fields[i];
    return rec;
  };
  let batch = new Map<string, Row>(); // number -> row (a later line for the same number wins)
  // Three stages overlap: this loop parses batch n+1 while PostgreSQL writes batch n and Redis
  // places batch n-1. Each stage takes one batch at a time, in file order (so a number's later line
  // wins everywhere), and a stage's failure surfaces at the next batch hand-over.
  let writing: Promise<void> = Promise.resolve();
  let placing: Promise<void> = Promise.resolve();
  const flush = async () => {
    if (!batch.size) return;
    const rows = [...batch.values()];
    batch = new Map();
    await writing;
    writing = (async () => {
      const { created, unusual } = await repo.importBatch(rows, knownPools);
      result.pools_created.push(...created);
      const before = placing;
      placing = (async () => {
        await before;
        for (const p of created) await service?.syncPoolConfig(p);
        await service?.placeImported(
          rows.map((r) => ({
            number: r.number,
            npa: r.npa || null,
            state: r.state || null,
            hourlyLimit: r.hourly === '' ? null : Number(r.hourly),
            dailyLimit: r.daily === '' ? null : Number(r.daily),
            active: unusual.get(r.number)?.active ?? true,
            inserted: unusual.get(r.number)?.inserted ?? true,
            pool: r.pool || null,
          })),
        );
        result.imported += rows.length;
        o.onProgress?.(result.lines);
      })();
      placing.catch(() => {}); // awaited later; never an unhandled rejection meanwhile
      await before; // at most one placement waits behind the one running
    })();
    writing.catch(() => {});
  };
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; line: number }>) {
      if (!header) {
        const before = bad.find((b) => b.line < item.line);
        if (before)
          throw new CsvHeaderError(`the header (line ${before.line}) is not valid CSV: ${before.reason}`);
        header = headerOf(item.record);
        for (const b of bad) onBad(b);
        continue;
      }
      result.lines++;
      const line = item.line;
      const v =
        item.record.length > header.length
          ? 'wrong number of fields'
          : validateRecord(recordOf(item.record), o.defaultPool ?? null);
      if (typeof v === 'string') reject(line, v);
      else {
        batch.delete(v.number);
        batch.set(v.number, v);
        if (batch.size >= batchSize) await flush();
      }
    }
  } catch (e) {
    if (e instanceof CsvHeaderError) throw e;
    const err = e as { code?: string; lines?: number; message: string };
    if (!err.code?.startsWith('CSV_')) throw e;
    // A structural CSV error (e.g. an unclosed quote) ends the parse: report where.
    reject(err.lines ?? result.lines + 1, `CSV: ${err.message}`);
  }
  if (!header && bad.length) throw new CsvHeaderError(`the header (line ${bad[0]!.line}) is not valid CSV`);
  await flush();
  await writing;
  await placing;
  // The quote guard reports a line as soon as it reads it, ahead of the parser's own reports.
  result.rejected.sort((a, b) => a.line - b.line);
  return result;
}
