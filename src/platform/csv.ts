// CSV imports where one record is one line (no field of ours may hold a line break). Standard CSV
// lets a quoted field run over line breaks, so one stray `"` would make the parser read the rest of
// the file as a single field and report an error at its end: every later line lost, the error at
// the wrong line. Two guards keep a bad line to itself:
// - `QuoteLineGuard`, before the parser: a line with an odd count of `"` has an unterminated quoted
//   field (or a stray quote; well-formed quoting always pairs them). It is reported with its line
//   number and passed on empty, so the parser never runs past its end and its line count stays true.
// - `csvLineOptions`: csv-parse skips a record with any other quoting error (a stray pair of quotes
//   inside an unquoted field) and reports it through `on_skip`, then goes on with the next line.
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';

export interface BadLine {
  line: number;
  reason: string;
}

export class QuoteLineGuard extends Transform {
  private decoder = new StringDecoder('utf8');
  /** The current line's start not yet passed on (it may still turn out to be bad). */
  private tail = '';
  /** Line number of the line `tail` belongs to (1-based). */
  private line = 1;

  constructor(private onBad: (bad: BadLine) => void) {
    super({ decodeStrings: true, readableObjectMode: false });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const text = this.tail + this.decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    if (end < 0) {
      this.tail = text;
      return done();
    }
    this.tail = text.slice(end + 1);
    // Most files have no quote at all: whole lines pass on as they are.
    done(
      null,
      text.indexOf('"') < 0 || text.indexOf('"') > end ? this.count(text, end) : this.check(text, end),
    );
  }

  override _flush(done: TransformCallback): void {
    const text = this.tail + this.decoder.end();
    this.tail = '';
    done(null, text ? this.guardLine(text) : undefined);
  }

  /** The complete lines of `text` (up to `end`, its last '\n') unchanged, counted. */
  private count(text: string, end: number): string {
    for (let i = text.indexOf('\n'); i >= 0 && i <= end; i = text.indexOf('\n', i + 1)) this.line++;
    return text.slice(0, end + 1);
  }

  /** The complete lines of `text`, each bad one emptied and reported. */
  private check(text: string, end: number): string {
    let out = '';
    let start = 0;
    while (start <= end) {
      const nl = text.indexOf('\n', start);
      out += `${this.guardLine(text.slice(start, nl))}\n`;
      this.line++;
      start = nl + 1;
    }
    return out;
  }

  private guardLine(l: string): string {
    let quotes = 0;
    for (let i = l.indexOf('"'); i >= 0; i = l.indexOf('"', i + 1)) quotes++;
    if (quotes % 2 === 0) return l;
    this.onBad({ line: this.line, reason: 'CSV: unterminated quoted field or stray quote (") on this line' });
    return l.endsWith('\r') ? '\r' : '';
  }
}

/** csv-parse options for one-record-a-line files: a record with a quoting error is skipped. */
export function csvLineOptions(onBad: (bad: BadLine) => void) {
  // csv-parse may report one bad line more than once (each stray quote in it): the first counts.
  let last = -1;
  return {
    skip_records_with_error: true,
    on_skip: (err: { lines?: number; message: string } | undefined): undefined => {
      if (!err || err.lines === last) return;
      last = err.lines ?? -1;
      onBad({ line: err.lines ?? 0, reason: `CSV: ${err.message}` });
    },
  };
}
