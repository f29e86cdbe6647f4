// A stored recording's length from its WAV header (what a taken-over call's CDR counts when the parts
// recorded before the takeover told their lengths to the dead owner only).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wavSeconds } from '../../src/routing/effects/recording.ts';

/** A WAV header as Asterisk's format_wav writes it, with optional chunks before `data`. */
function wav(dataBytes: number, byteRate: number, extra: Array<[string, number]> = []): Buffer {
  const fmt = Buffer.alloc(8 + 16);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8); // PCM
  fmt.writeUInt16LE(1, 10); // mono
  fmt.writeUInt32LE(byteRate / 2, 12);
  fmt.writeUInt32LE(byteRate, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  const chunks = extra.map(([id, n]) => {
    const c = Buffer.alloc(8 + n + (n % 2));
    c.write(id, 0, 'ascii');
    c.writeUInt32LE(n, 4);
    return c;
  });
  const data = Buffer.alloc(8);
  data.write('data', 0, 'ascii');
  data.writeUInt32LE(dataBytes, 4);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'ascii');
  head.writeUInt32LE(4 + fmt.length + data.length + dataBytes, 4);
  head.write('WAVE', 8, 'ascii');
  return Buffer.concat([head, fmt, ...chunks, data]);
}

describe('stored recording length', () => {
  it("reads the data chunk's size over the byte rate, whatever chunks come before it", () => {
    fc.assert(
      fc.property(
        fc.nat(36_000),
        fc.constantFrom(16_000, 32_000),
        fc.array(fc.tuple(fc.constantFrom('LIST', 'fact', 'junk'), fc.nat(300)), { maxLength: 3 }),
        (s, rate, extra) => {
          expect(wavSeconds(wav(s * rate, rate, extra))).toBe(s);
        },
      ),
      { numRuns: 200 },
    );
    // Rounded to the whole second, as CDRs count.
    expect(wavSeconds(wav(16_000 * 3 + 9_000, 16_000))).toBe(4);
  });

  it('refuses what is not a WAV header', () => {
    expect(wavSeconds(Buffer.from('{"message":"not found"}'))).toBeNull();
    expect(wavSeconds(Buffer.alloc(0))).toBeNull();
    // Cut before its data chunk: unknown, not zero.
    expect(wavSeconds(wav(16_000, 16_000).subarray(0, 30))).toBeNull();
  });
});
