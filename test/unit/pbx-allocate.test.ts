import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lowestFreeExtension } from '../../src/pbx/allocate.ts';
import { endpointColumns, endpointOptions, rawOptions, rawProblem } from '../../src/pbx/options.ts';

describe('lowestFreeExtension', () => {
  const range = fc
    .tuple(fc.integer({ min: 1, max: 5000 }), fc.integer({ min: 0, max: 300 }))
    .map(([min, n]) => ({ min, max: min + n }));

  it('returns the smallest free extension of the range, never a used one', () => {
    fc.assert(
      fc.property(
        range,
        // Offsets from the range's start, mostly inside it (and a few either side), up to more than
        // it holds: runs of used extensions from the start, gaps and a full range all come up.
        // size 'max': fast-check's default size would keep the arrays near 10 long.
        fc.array(fc.integer({ min: -20, max: 320 }), { maxLength: 400, size: 'max' }),
        ({ min, max }, offsets) => {
          const used = offsets.map((o) => min + o);
          const e = lowestFreeExtension(used, min, max);
          const set = new Set(used);
          if (e === null) {
            for (let x = min; x <= max; x++) expect(set.has(x)).toBe(true);
            return;
          }
          expect(e).toBeGreaterThanOrEqual(min);
          expect(e).toBeLessThanOrEqual(max);
          expect(set.has(e)).toBe(false);
          for (let x = min; x < e; x++) expect(set.has(x)).toBe(true);
        },
      ),
    );
  });

  it('allocating repeatedly fills the range in order, then reports exhaustion', () => {
    fc.assert(
      fc.property(range, ({ min, max }) => {
        const used: number[] = [];
        for (let i = min; i <= max; i++) {
          const e = lowestFreeExtension(used, min, max);
          expect(e).toBe(i);
          used.push(e!);
        }
        expect(lowestFreeExtension(used, min, max)).toBeNull();
      }),
    );
  });

  it('a freed extension is the next one handed out', () => {
    fc.assert(
      fc.property(range, fc.nat(), ({ min, max }, k) => {
        const used = Array.from({ length: max - min + 1 }, (_, i) => min + i);
        const freed = used.splice(k % used.length, 1)[0]!;
        expect(lowestFreeExtension(used, min, max)).toBe(freed);
      }),
    );
  });

  it('an empty or inverted range has nothing to give', () => {
    expect(lowestFreeExtension([], 10, 9)).toBeNull();
  });
});

describe('endpoint options', () => {
  const d = { context: 'from-client', transport: 'transport-udp', codecs: ['ulaw', 'alaw'] };

  it('writes disallow=all first, then the allowed codecs in order, and yes/no flags', () => {
    const o = endpointOptions.parse({ codecs: ['g722', 'ulaw'], direct_media: true, rtp_symmetric: false });
    expect(endpointColumns(o, {}, d)).toMatchObject({
      context: 'from-client',
      transport: 'transport-udp',
      disallow: 'all',
      allow: 'g722,ulaw',
      directMedia: 'yes',
      rtpSymmetric: 'no',
      forceRport: 'yes',
      dtmfMode: 'rfc4733',
    });
  });

  it('refuses unknown codecs and unknown options', () => {
    expect(endpointOptions.safeParse({ codecs: ['ulaw', 'mp3'] }).success).toBe(false);
    expect(endpointOptions.safeParse({ codecs: [] }).success).toBe(false);
    expect(endpointOptions.safeParse({ nat: 'yes' }).success).toBe(false);
    expect(endpointOptions.safeParse({ context: 'bad context' }).success).toBe(false);
  });

  it('raw options: Asterisk columns only, never the id/auth linkage, values checked by column type', () => {
    expect(rawProblem('language', 'fr')).toBeNull();
    expect(rawProblem('100rel', 'peer_supported')).toBeNull();
    expect(rawProblem('timers', 'sometimes')).toMatch(/must be one of/);
    expect(rawProblem('device_state_busy_at', 'two')).toMatch(/integer/);
    expect(rawProblem('no_such_column', 'x')).toMatch(/unknown ps_endpoints column/);
    for (const c of ['id', 'aors', 'auth', 'outbound_auth']) expect(rawProblem(c, 'x')).toMatch(/managed/);
    expect(rawProblem('callerid', 'x'.repeat(41))).toMatch(/at most 40/);
    expect(rawProblem('set_var', 'A=1\r\nB=2')).toMatch(/control/);
    expect(rawOptions.safeParse({ aors: 'other' }).success).toBe(false);
  });

  it('raw options override the documented ones and map to drizzle keys', () => {
    const cols = endpointColumns({}, { language: 'fr', direct_media: true, device_state_busy_at: '2' }, d);
    expect(cols).toMatchObject({ language: 'fr', directMedia: 'yes', deviceStateBusyAt: 2 });
  });
});
