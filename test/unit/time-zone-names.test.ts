// One test of a zone name (isIanaZone) behind every place a zone comes in: the API's clients and
// buyer groups, the reports' `?tz=`, and the configuration's DEFAULT_TIMEZONE and CID_TIMEZONE. What
// it takes: the IANA names the runtime knows, in any case (PostgreSQL reads zone names the same
// way); what it refuses: offsets (PostgreSQL would read `+05:30` as a POSIX zone, sign inverted),
// padding, names it does not know, anything over 64 characters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { ianaZone } from '../../src/platform/http/input.ts';
import { reportQuery } from '../../src/reports/schemas.ts';
import { clientBody } from '../../src/routing/schemas/clients.ts';
import { groupBody } from '../../src/routing/schemas/groups.ts';
import { isIanaZone, wallClock } from '../../src/time/zone.ts';

const known = Intl.supportedValuesOf('timeZone');

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MASTER_KEY: 'ab'.repeat(32),
};
const configTakes = (name: string, zone: string) => {
  try {
    parseConfig({ ...base, [name]: zone });
    return true;
  } catch (e) {
    if (e instanceof ConfigError) return false;
    throw e;
  }
};

// Names near the valid ones: known names, changed in case, padded, cut, joined, given an offset's
// look, or replaced by any text at all.
const offset = fc
  .tuple(
    fc.constantFrom('+', '-'),
    fc.integer({ min: 0, max: 14 }),
    fc.integer({ min: 0, max: 59 }),
    fc.constantFrom(':', ''),
  )
  .map(([s, h, m, sep]) => `${s}${String(h).padStart(2, '0')}${sep}${String(m).padStart(2, '0')}`);
const nearZone = fc.oneof(
  fc.constantFrom(...known),
  fc.constantFrom(...known).map((z) => z.toLowerCase()),
  fc.constantFrom(...known).map((z) => ` ${z}`),
  fc.tuple(fc.constantFrom(...known), fc.nat()).map(([z, n]) => z.slice(0, n % (z.length + 1))),
  fc.tuple(fc.constantFrom(...known), fc.constantFrom(...known)).map(([a, b]) => `${a}/${b}`),
  fc.constantFrom(...known).map((z) => `${z}/${'x'.repeat(64)}`),
  offset,
  fc.constantFrom(...known).map((z) => `${z}${'+05:30'}`),
  fc.string({ maxLength: 80 }),
);

describe('the zone name test', () => {
  it('takes every zone the runtime knows, refuses offsets, padding, unknown and over-long names', () => {
    expect(known.length).toBeGreaterThan(300);
    for (const z of known) expect(isIanaZone(z), z).toBe(true);
    for (const z of ['+05:30', '-0800', '+01', 'Z', '', ' UTC', 'UTC ', 'Mars/Olympus', 'Factory'])
      expect(isIanaZone(z), z).toBe(false);
    expect(isIanaZone('utc')).toBe(true);
    expect(isIanaZone('america/new_york')).toBe(true);
  });

  it('over random names: what it takes is a zone the clock reads, never an offset or padded text', () => {
    fc.assert(
      fc.property(nearZone, (z) => {
        if (!isIanaZone(z)) return;
        expect(z.length).toBeLessThanOrEqual(64);
        expect(z).toMatch(/^[A-Za-z][A-Za-z0-9_+/-]*$/);
        expect(z).not.toMatch(/[:\s]|\/\/|\/$/);
        expect(() => wallClock(z, 0)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });

  it('over random names: every input that takes a zone takes exactly what it takes', () => {
    fc.assert(
      fc.property(nearZone, (z) => {
        const ok = isIanaZone(z);
        expect(ianaZone.safeParse(z).success).toBe(ok);
        expect(reportQuery.pick({ tz: true }).safeParse({ tz: z }).success).toBe(ok);
        expect(clientBody.safeParse({ name: 'c', endpoint: 'c', timezone: z }).success).toBe(ok);
        expect(groupBody.safeParse({ name: 'g', timezone: z }).success).toBe(ok);
        // An empty variable is an unset one (the zone's default), as operators write `FOO=`.
        expect(configTakes('DEFAULT_TIMEZONE', z)).toBe(ok || z === '');
        expect(configTakes('CID_TIMEZONE', z)).toBe(ok || z === '');
      }),
      { numRuns: 500 },
    );
  });
});
