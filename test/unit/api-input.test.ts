import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { badText, jsonTooDeep, queryBool, timestamp, validInstant } from '../../src/platform/http/input.ts';
import { generateApiKey, looksLikeApiKey } from '../../src/auth/keys.ts';

const depthOf = (v: unknown): number =>
  typeof v === 'object' && v !== null
    ? 1 + Math.max(0, ...Object.values(v as Record<string, unknown>).map(depthOf))
    : 0;

describe('request input checks', () => {
  it('jsonTooDeep agrees with the nesting of the parsed value, brackets inside strings included', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 12 }), (v, max) => {
        const text = JSON.stringify(v);
        expect(jsonTooDeep(text, max)).toBe(depthOf(JSON.parse(text)) > max);
      }),
      { numRuns: 500 },
    );
  });

  it('badText is exactly "holds NUL or is not well-formed UTF-16"', () => {
    const wellFormed = (s: string) => {
      try {
        encodeURIComponent(s);
        return true;
      } catch {
        return false;
      }
    };
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), (raw, ok) => {
        expect(badText(raw)).toBe(raw.includes('\0') || !wellFormed(raw));
        expect(badText(ok)).toBe(ok.includes('\0'));
      }),
      { numRuns: 500 },
    );
    for (const s of ['\ud800', 'a\udc00', '\udc00\ud800', 'x\0']) expect(badText(s)).toBe(true);
    expect(badText('\ud83d\ude00')).toBe(false);
  });

  it('timestamps: years 0001-9999 only, impossible dates refused', () => {
    for (const s of ['0000-01-01T00:00:00Z', '0001-01-01T00:30:00+01:00', '2023-02-29T00:00:00Z'])
      expect(timestamp.safeParse(s).success, s).toBe(false);
    for (const s of ['0001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2024-02-29T12:00:00+05:30'])
      expect(timestamp.safeParse(s).success, s).toBe(true);
    expect(validInstant(new Date('-000001-01-01T00:00:00Z'))).toBe(false);
    expect(validInstant(new Date(Number.NaN))).toBe(false);
  });

  it('query booleans: true/1 and false/0 only', () => {
    expect(['true', '1', 'TRUE', 'false', '0', 'False'].map((s) => queryBool.parse(s))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
    for (const s of ['', 'yes', 'no', '2', 'on', ' true'])
      expect(queryBool.safeParse(s).success, s).toBe(false);
  });

  it('every generated API key has the shape the limiter accepts while an IP is limited', () => {
    for (let i = 0; i < 2000; i++) expect(looksLikeApiKey(generateApiKey().key)).toBe(true);
    for (const s of ['bad', 'cc_short_x', `cc_abcdefgh_${'x'.repeat(42)}`, `cc_abcdefgh_${'x'.repeat(43)}!`])
      expect(looksLikeApiKey(s)).toBe(false);
  });
});
