import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rawProblem } from '../../src/pbx/options.ts';
import {
  encodeRow,
  FROM_USER,
  realtimeDecode,
  realtimeEncode,
  userCallerId,
} from '../../src/pbx/realtime.ts';

/** What res_config_pgsql hands sorcery for one column value: split on ';', trimmed, ^XX decoded, empties dropped. */
const asteriskReads = (v: string): string[] =>
  v
    .split(';')
    .map((c) => realtimeDecode(c.trim()))
    .filter((c) => c !== '');

/** ast_callerid_split for `"name" <number>`: the number is what follows the last '<'. */
const callerIdNumber = (v: string): string | null => {
  const ls = v.lastIndexOf('<');
  if (ls < 0) return null;
  const le = v.indexOf('>', ls);
  return v.slice(ls + 1, le < 0 ? undefined : le);
};

describe('values written to Asterisk realtime tables', () => {
  it('any text without control characters reads back as one value, unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
        const v = s.replace(/[\u0000-\u001f\u007f]/g, '').trim();
        fc.pre(v !== '');
        expect(asteriskReads(realtimeEncode(v))).toEqual([v]);
        expect(realtimeDecode(realtimeEncode(v))).toBe(v);
      }),
      { numRuns: 500 },
    );
    expect(asteriskReads(realtimeEncode('a;b^41'))).toEqual(['a;b^41']);
  });

  it('a user name never changes the caller number, and the value fits 40 characters', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary-ascii', maxLength: 120 }),
        fc.stringMatching(/^\d{1,20}$/),
        (name, ext) => {
          const v = userCallerId(name, ext);
          expect([...v].length).toBeLessThanOrEqual(40);
          // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
          expect(v).not.toMatch(/[\u0000-\u001f\u007f;^]/);
          // As Asterisk reads the stored value: one value, whose number is the extension.
          const read = asteriskReads(encodeRow({ callerid: v }, 'ps_endpoints').callerid);
          expect(read).toHaveLength(1);
          expect(callerIdNumber(read[0]!)).toBe(ext);
        },
      ),
      { numRuns: 500 },
    );
    expect(userCallerId('Ann', '1001')).toBe('"Ann" <1001>');
    expect(userCallerId('x'.repeat(100), '1001')).toBe(`"${'x'.repeat(31)}" <1001>`);
    expect(userCallerId('evil" <666>;\r\ncallerid=1', '1001')).toBe('"evil 666callerid=1" <1001>');
    expect(userCallerId('"<>', '1001')).toBe('<1001>');
  });

  it('control characters are refused in any value, CR/LF included', () => {
    for (const bad of ['a\r\nb', 'a\nb', '\u0000', '\u001b[0m', '\u007f'])
      expect(() => encodeRow({ context: bad }, 'ps_endpoints')).toThrow(/control characters/);
    expect(encodeRow({ context: 'ctx;x', max_contacts: 3, x: null }, 'ps_endpoints')).toEqual({
      context: 'ctx^3Bx',
      max_contacts: 3,
      x: null,
    });
    expect(rawProblem('set_var', 'A=1\u0007')).toMatch(/control/);
  });

  it('from_user takes exactly what Asterisk accepts, less the ";" the realtime driver splits on', () => {
    const asteriskOk = (s: string) => /^[A-Za-z0-9\-._~%!$&'()*+,;=:]+$/.test(s);
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.constantFrom(...'aZ09-._~%!$&\'()*+,;=:?/@ "<>#'.split('')),
          minLength: 1,
          maxLength: 40,
        }),
        (s) => {
          expect(FROM_USER.test(s)).toBe(asteriskOk(s) && !s.includes(';'));
        },
      ),
      { numRuns: 500 },
    );
    for (const s of ['a?b', 'a/b', 'a b', 'a@b']) expect(rawProblem('from_user', s)).not.toBeNull();
    expect(rawProblem('from_user', "+1-555_~!$&'()*,=:%41")).toBeNull();
  });
});
