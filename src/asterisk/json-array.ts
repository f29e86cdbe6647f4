// A JSON array read element by element as its bytes arrive (ARI's `GET /channels`, which grows
// with the calls on the node: ~450 bytes a channel, megabytes at thousands of calls). Parsing the
// whole answer at once held the event loop for hundreds of milliseconds on a busy machine, and
// every call waited; element by element, the reader can give the loop back between them.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * Splits the top-level array into its elements' JSON texts (each for JSON.parse, which judges it:
 * the reader parses them one by one, giving the loop back between them). Bytes, not
 * characters: every structural byte is ASCII, and a UTF-8 sequence (bytes >= 0x80) never contains
 * one, so a character cut between two chunks is put back together before it is decoded.
 * Throws on anything that is not one JSON array.
 */
export class JsonArraySplitter {
  private state: 'before' | 'between' | 'element' | 'after' = 'before';
  /** Nesting inside the current element. */
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the current element from earlier chunks. */
  private parts: Buffer[] = [];
  /** A comma was read and no element followed it yet. */
  private pendingComma = false;

  /** The JSON texts of the elements this chunk completed, in order. */
  push(chunk: Buffer): string[] {
    const out: string[] = [];
    let start = this.state === 'element' ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.state === 'element') {
        if (this.inString) {
          if (this.escaped) this.escaped = false;
          else if (b === BACKSLASH) this.escaped = true;
          else if (b === QUOTE) this.inString = false;
          continue;
        }
        if (b === QUOTE) this.inString = true;
        else if (b === OPEN_OBJECT || b === OPEN_ARRAY) this.depth++;
        else if ((b === CLOSE_OBJECT || b === CLOSE_ARRAY) && this.depth > 0) this.depth--;
        else if (this.depth === 0 && (b === COMMA || b === CLOSE_ARRAY)) {
          out.push(this.finish(chunk.subarray(start, i)));
          start = -1;
          this.state = b === COMMA ? 'between' : 'after';
          this.pendingComma = b === COMMA;
        }
        continue;
      }
      if (isSpace(b)) continue;
      if (this.state === 'before') {
        if (b !== OPEN_ARRAY) throw new Error('not a JSON array');
        this.state = 'between';
        continue;
      }
      if (this.state === 'after') throw new Error('bytes after the end of the JSON array');
      // Between elements: the end of the array, or the first byte of the next element.
      if (b === CLOSE_ARRAY && !this.pendingComma) {
        this.state = 'after';
        continue;
      }
      if (b === COMMA || b === CLOSE_ARRAY) throw new Error('a JSON array element is missing');
      this.state = 'element';
      this.depth = 0;
      this.pendingComma = false;
      start = i;
      i--; // read the element's first byte as part of it
    }
    if (this.state === 'element' && start >= 0) this.parts.push(Buffer.from(chunk.subarray(start)));
    return out;
  }

  /** Throws when the array has not ended: the answer was cut short. */
  end(): void {
    if (this.state !== 'after') throw new Error('the JSON array ended early');
  }

  private finish(tail: Buffer): string {
    const bytes = this.parts.length ? Buffer.concat([...this.parts, tail]) : tail;
    this.parts = [];
    return bytes.toString('utf8');
  }
}
