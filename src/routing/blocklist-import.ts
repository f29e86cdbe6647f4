// CSV import of blocked caller numbers into one list (a seller's or the global one): streamed
// (csv-parse, never the whole body in memory), validated line by line, added in batches (numbers
// already on the list are kept). Bad lines are reported with their line number and reason; the good
// ones are added. Header: `number`, and optionally `note`.
import { type Readable, Transform } from 'node:stream';
import { Parser } from 'csv-parse';
import type { Db } from '../platform/db.ts';
import { AppError } from '../platform/http/errors.ts';
import { addCallerBlocks } from './repository.ts';
import { toE164 } from './schemas.ts';

export interface BlockImportResult {
  lines: number;
  added: number;
  already_listed: number;
  /** The first MAX_REJECTED rejected lines; `rejected_total` counts them all. */
  rejected: Array<{ line: number; reason: string }>;
  rejected_total: number;
}

/** The import's own body limit (a blocklist is numbers, not a caller-ID inventory). */
export const BLOCKLIST_IMPORT_MAX_BYTES = 64 * 1024 * 1024;
// A file of nothing but bad lines must not make an answer as large as itself.
const MAX_REJECTED = 1000;
const BATCH = 2000;

export class BlockCsvHeaderError extends Error {}

/** Passes bytes on until `max` have gone by, then fails the stream with PAYLOAD_TOO_LARGE. */
export function byteLimit(max: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      if (seen > max) done(new AppError('PAYLOAD_TOO_LARGE', `a blocklist import is at most ${max} bytes`));
      else done(null, chunk);
    },
  });
}

/** csv-parse's records, each paired with the line it ends on. */
class LineParser extends Parser {
  override push(chunk: unknown, encoding?: BufferEncoding): boolean {
    return super.push(chunk === null ? null : { record: chunk, line: this.info.lines }, encoding);
  }
}

/** One CSV record as a list entry, or why it is refused (pure). */
export function blockOfRecord(
  fields: string[],
  header: { number: number; note: number },
  width: number,
): { number: string; note: string | null } | string {
  if (fields.length > width) return 'wrong number of fields';
  const raw = (fields[header.number] ?? '').trim();
  if (!raw) return 'number is empty';
  const number = toE164(raw);
  if (!number) return `number "${raw.slice(0, 40)}" is not a valid phone number`;
  const note = header.note >= 0 ? (fields[header.note] ?? '').trim() : '';
  if (note.length > 200) return 'note is longer than 200 characters';
  return { number, note: note || null };
}

/**
 * Imports a CSV into one list, all or nothing: one transaction, so a body cut off by the size limit
 * or a failing write leaves the list as it was (the rejected lines alone never fail the import).
 */
export function importBlocklist(
  db: Db,
  sellerId: string | null,
  input: Readable,
  maxBytes = BLOCKLIST_IMPORT_MAX_BYTES,
): Promise<BlockImportResult> {
  return db.transaction((tx) => importInto(tx as unknown as Db, sellerId, input, maxBytes));
}

async function importInto(
  db: Db,
  sellerId: string | null,
  input: Readable,
  maxBytes: number,
): Promise<BlockImportResult> {
  const result: BlockImportResult = {
    lines: 0,
    added: 0,
    already_listed: 0,
    rejected: [],
    rejected_total: 0,
  };
  const reject = (line: number, reason: string) => {
    result.rejected_total++;
    if (result.rejected.length < MAX_REJECTED) result.rejected.push({ line, reason });
  };
  const limited = byteLimit(maxBytes);
  input.on('error', (e) => limited.destroy(e));
  const parser = input
    .pipe(limited)
    .pipe(new LineParser({ bom: true, trim: true, skip_empty_lines: true, relax_column_count: true }));
  let header: { number: number; note: number } | null = null;
  let width = 0;
  let batch = new Map<string, { number: string; note: string | null }>();
  const flush = async () => {
    if (!batch.size) return;
    const rows = [...batch.values()];
    batch = new Map();
    const added = await addCallerBlocks(db, sellerId, rows);
    result.added += added;
    result.already_listed += rows.length - added;
  };
  try {
    limited.on('error', (e) => parser.destroy(e));
    for await (const item of parser as AsyncIterable<{ record: string[]; line: number }>) {
      if (!header) {
        const cols = item.record.map((h) => h.trim().toLowerCase());
        const unknown = cols.filter((c) => c !== 'number' && c !== 'note');
        if (!cols.includes('number')) throw new BlockCsvHeaderError('the header must name a number column');
        if (unknown.length) throw new BlockCsvHeaderError(`unknown column(s): ${unknown.join(', ')}`);
        header = { number: cols.indexOf('number'), note: cols.indexOf('note') };
        width = cols.length;
        continue;
      }
      result.lines++;
      const v = blockOfRecord(item.record, header, width);
      if (typeof v === 'string') reject(item.line, v);
      else {
        if (batch.has(v.number)) result.already_listed++;
        batch.set(v.number, v);
        if (batch.size >= BATCH) await flush();
      }
    }
  } catch (e) {
    if (e instanceof BlockCsvHeaderError) throw e;
    const err = e as { code?: string; lines?: number; message: string };
    if (!err.code?.startsWith('CSV_')) throw e;
    // A structural CSV error (an unclosed quote) ends the parse: report where.
    reject(err.lines ?? result.lines + 1, `CSV: ${err.message}`);
  }
  await flush();
  return result;
}
