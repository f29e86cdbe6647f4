// The byte ranges a call's recording is sent in (a player seeking): which part a Range header asks
// for, and that part cut out of the file as it streams, whatever the chunks it arrives in.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { byteRange, sliceBytes } from '../../src/cdr/recording.ts';

const collect = async (it: AsyncIterable<Buffer>) => {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return Buffer.concat(out);
};

/** The file split into chunks at the given cut points (as it arrives from Asterisk). */
async function* chunked(file: Buffer, cuts: number[]) {
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (file.length + 1)))].sort((a, b) => a - b)) {
    if (c > at) yield file.subarray(at, c);
    at = Math.max(at, c);
  }
  if (at < file.length) yield file.subarray(at);
}

describe('recording byte ranges', () => {
  it('the examples a browser sends', () => {
    expect(byteRange(undefined, 100)).toBeNull();
    expect(byteRange('bytes=0-', 100)).toEqual({ start: 0, end: 99 });
    expect(byteRange('bytes=10-19', 100)).toEqual({ start: 10, end: 19 });
    expect(byteRange('bytes=90-500', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=0-', 0)).toBe('unsatisfiable');
    // Ignored (the whole file): several ranges, another unit, an end before the start, nonsense.
    for (const h of ['bytes=0-1,5-6', 'items=0-1', 'bytes=5-1', 'bytes=-', 'bytes=a-b', ''])
      expect(byteRange(h, 100)).toBeNull();
  });

  it('a satisfiable range lies inside the file and is as long as asked, or runs to its end', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.option(fc.nat(2_000_000), { nil: undefined }),
        fc.option(fc.nat(2_000_000), { nil: undefined }),
        (size, a, b) => {
          const h = `bytes=${a ?? ''}-${b ?? ''}`;
          const r = byteRange(h, size);
          if (r === null) {
            // Only what RFC 9110 lets a server ignore.
            expect(a === undefined ? b === undefined : b !== undefined && b < a).toBe(true);
            return;
          }
          if (r === 'unsatisfiable') {
            expect(a === undefined ? b === 0 || size === 0 : a >= size).toBe(true);
            return;
          }
          expect(r.start).toBeGreaterThanOrEqual(0);
          expect(r.end).toBeLessThan(size);
          expect(r.start).toBeLessThanOrEqual(r.end);
          if (a === undefined) expect(r.end - r.start + 1).toBe(Math.min(b!, size));
          else {
            expect(r.start).toBe(a);
            expect(r.end).toBe(b === undefined ? size - 1 : Math.min(b, size - 1));
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the part streamed is exactly those bytes of the file, whatever its chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 300 }),
        fc.array(fc.nat(400), { maxLength: 12 }),
        fc.nat(400),
        fc.nat(400),
        async (bytes, cuts, x, y) => {
          const file = Buffer.from(bytes);
          const start = Math.min(x, y) % file.length;
          const end = Math.min(Math.max(x, y), file.length - 1);
          const got = await collect(sliceBytes(chunked(file, cuts), { start, end }));
          expect(got.equals(file.subarray(start, end + 1))).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('stops reading the source once the range is out', async () => {
    let read = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield Buffer.alloc(10, i);
      }
    }
    const got = await collect(sliceBytes(source(), { start: 5, end: 24 }));
    expect(got.length).toBe(20);
    expect(read).toBe(3);
  });
});
