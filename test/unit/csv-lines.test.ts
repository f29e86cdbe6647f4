// The CSV line guard: a line with an odd count of quotes is reported at its own line number and
// passed on empty, whatever the chunking of the input; every other byte passes unchanged.
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BadLine, QuoteLineGuard } from '../../src/platform/csv.ts';

async function guard(chunks: Buffer[]): Promise<{ out: string; bad: BadLine[] }> {
  const bad: BadLine[] = [];
  const out = await text(Readable.from(chunks).pipe(new QuoteLineGuard((b) => bad.push(b))));
  return { out, bad };
}

/** The input cut at the given byte offsets (multi-byte characters may be split). */
function cut(s: string, at: number[]): Buffer[] {
  const b = Buffer.from(s);
  const points = [...new Set(at.map((p) => p % (b.length + 1)))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  let from = 0;
  for (const p of points) {
    parts.push(b.subarray(from, p));
    from = p;
  }
  parts.push(b.subarray(from));
  return parts.filter((p) => p.length);
}

describe('QuoteLineGuard', () => {
  it('empties exactly the lines with an odd count of quotes and keeps the line count (property)', async () => {
    const line = fc.stringMatching(/^[a-z0-9,"é +]{0,30}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 40 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        async (lines, crlf, finalBreak, at) => {
          const eol = crlf ? '\r\n' : '\n';
          const input = lines.join(eol) + (finalBreak && lines.length ? eol : '');
          const { out, bad } = await guard(cut(input, at));
          const odd = (l: string) => (l.match(/"/g)?.length ?? 0) % 2 === 1;
          const expected = lines.map((l) => (odd(l) ? '' : l));
          expect(out).toBe(expected.join(eol) + (finalBreak && lines.length ? eol : ''));
          expect(bad.map((b) => b.line)).toEqual(lines.flatMap((l, i) => (odd(l) ? [i + 1] : [])));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the fault in its reason', async () => {
    const { bad } = await guard([Buffer.from('a,b\n1,"2\n3,4\n')]);
    expect(bad).toEqual([{ line: 2, reason: expect.stringMatching(/^CSV: unterminated quoted field/) }]);
  });
});
