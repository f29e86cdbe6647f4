// The channel list read element by element (src/asterisk/json-array.ts): whatever the chunks the
// answer arrives in — cut inside a string, an escape, a number or a UTF-8 character — the elements
// are exactly JSON.parse's, and an answer that is not one whole array is refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter } from '../../src/asterisk/json-array.ts';
import { Slicer } from '../../src/platform/slices.ts';

/** The bytes cut at the given positions (sorted, within the length). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

function splitAll(chunks: Buffer[]): unknown[] {
  const s = new JsonArraySplitter();
  const out = chunks.flatMap((c) => s.push(c)).map((t) => JSON.parse(t) as unknown);
  s.end();
  return out;
}

// Strings of every kind of character: quotes, backslashes, brackets, commas, multi-byte UTF-8.
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({
    unit: fc.constantFrom('"', '\\', '[', ']', '{', '}', ',', ' ', 'é', '😀', '\n'),
    maxLength: 12,
  }),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(text, tie('v'), { maxKeys: 4 }),
  ),
})).v;

describe('JsonArraySplitter', () => {
  it("gives JSON.parse's elements however the answer is cut and spaced", () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 8 }),
        fc.constantFrom(undefined, 1, 2, '\t'),
        fc.array(fc.nat(), { maxLength: 12 }),
        (arr, indent, at) => {
          const bytes = Buffer.from(`\n ${JSON.stringify(arr, null, indent)} \r\n`, 'utf8');
          expect(splitAll(cut(bytes, at))).toEqual(JSON.parse(bytes.toString('utf8')));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('gives each element as soon as the chunk that ends it arrives', () => {
    const s = new JsonArraySplitter();
    expect(s.push(Buffer.from('[{"id":"a,]"},{"id'))).toEqual(['{"id":"a,]"}']);
    expect(s.push(Buffer.from('":"b"}'))).toEqual([]);
    expect(s.push(Buffer.from(',3]'))).toEqual(['{"id":"b"}', '3']);
    s.end();
  });

  it('refuses what is not one whole JSON array', () => {
    const bad = [
      '{}',
      '"x"',
      '[1,]',
      '[,1]',
      '[1,,2]',
      '[1] 2',
      '[1][2]',
      '[{"a":1}',
      '[',
      '',
      '[1 2]',
      '[{]',
    ];
    for (const b of bad) expect(() => splitAll([Buffer.from(b)]), b).toThrow();
  });
});

describe('Slicer', () => {
  it('gives the event loop back to what waits, however long the work', async () => {
    // The loop ends only once a callback queued at its start has run: only a slicer that yields
    // lets it. Whatever the machine's speed, no clock is judged here.
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    const slicer = new Slicer(1);
    let turns = 0;
    while (!ran) {
      turns++;
      await slicer.due();
    }
    expect(turns).toBeGreaterThan(0);
  });
});
