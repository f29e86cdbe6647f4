// The Redis gateway without Redis: every script call's KEYS match its script's declared count and
// share one hash tag per domain; reply codes decode to typed results and an unknown code is an error;
// the lock's keep-alive decision.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidBuckets } from '../../src/callerid/decide.ts';
import {
  healthCall,
  pickCall,
  placeCall,
  placeFreshCalls,
  placeManyCalls,
  promoteCall,
  takeUsageCall,
} from '../../src/callerid/store.ts';
import {
  decodeDone,
  decodeHealth,
  decodePick,
  decodeRelease,
  decodeTake,
  ScriptReplyError,
} from '../../src/platform/redis/codes.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { lockState } from '../../src/platform/redis/lock.ts';
import { PICK_SCRIPT, SCRIPTS } from '../../src/platform/redis/scripts.ts';
import { legacyRoutingName } from '../../src/routing/legacy-keys.ts';
import { decodeSources, encodeSources, slotKeys, takeArgs, takeKeys } from '../../src/routing/slots.ts';

const none = { concurrency: null, hourly: null, daily: null, monthly: null, total: null };

const keys = new RedisKeys('cc');
const numKeys = (name: string) => {
  const d = [...SCRIPTS, PICK_SCRIPT].find((s) => s.name === name);
  if (!d) throw new Error(`no script ${name}`);
  if (d.numberOfKeys === null) throw new Error(`script ${name} takes a varying number of KEYS`);
  return d.numberOfKeys;
};
const varying = (name: string) => SCRIPTS.find((s) => s.name === name)?.numberOfKeys === null;
const tags = (k: string) => k.match(/\{[^}]*\}/g);

describe('script calls', () => {
  const b = cidBuckets(Date.UTC(2026, 0, 1, 10, 0, 30), 'UTC');
  const now = Date.UTC(2026, 0, 1, 10, 0, 30);
  const profile = {
    active: true,
    npa: '212',
    nxx: '212555',
    state: 'NY',
    hourlyLimit: 5,
    dailyLimit: null,
    pools: ['A'],
  };

  it('every caller-ID call passes as many KEYS as its script declares, all under the {cid} tag', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        fc.stringMatching(/^\+1\d{10}$/),
        fc.integer({ min: 1, max: 1200 }),
        (pool, number, n) => {
          const k = keys.cid;
          const calls: Array<[string, { keys: string[] }]> = [
            [
              'pickCid',
              pickCall(k, {
                pool,
                callee: null,
                agent: 'a',
                now,
                ttlMs: 1,
                buckets: b,
                ratePerMin: null,
                promoteBatch: 1,
              }),
            ],
            ['placeCid', placeCall(k, number, now, b, false, ['a', '1'])],
            ['promoteCid', promoteCall(k, pool, now, b, 10)],
            [
              'healthCid',
              healthCall(k, {
                number,
                callId: 'c1',
                answered: true,
                now,
                buckets: b,
                defaults: { window: 1, minAnswerRate: 0, restS: 1 },
              }),
            ],
            ['takeUsage', takeUsageCall(k, 250)],
            ...placeManyCalls(
              k,
              Array.from({ length: n }, () => ({ number, fields: [] })),
              now,
              b,
            ).map((c) => ['placeCids', c] as [string, { keys: string[] }]),
            ...placeFreshCalls(
              k,
              Array.from({ length: n }, () => ({ number, profile })),
            ).map((c) => ['placeFresh', c] as [string, { keys: string[] }]),
          ];
          for (const [name, c] of calls) {
            // A `-n` script's count varies per call (the caller passes it): checked below.
            if (!varying(name)) expect(c.keys, name).toHaveLength(numKeys(name));
            for (const key of c.keys) expect(tags(key), `${name} ${key}`).toEqual(['{cid}']);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('bulk calls split their numbers into batches and lose none', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2500 }), (n) => {
        const items = Array.from({ length: n }, (_, i) => ({
          number: `+1212555${String(i).padStart(4, '0')}`,
          profile,
        }));
        const fresh = placeFreshCalls(keys.cid, items);
        expect(fresh).toHaveLength(Math.ceil(n / 500));
        // Per number 8 values (its tier sets' indexes in one), after the count.
        expect(fresh.reduce((s, c) => s + c.args.length - 1, 0)).toBe(n * 8);
        const many = placeManyCalls(
          keys.cid,
          items.map((i) => ({ number: i.number, fields: ['a', '1'] })),
          now,
          b,
        );
        expect(many).toHaveLength(Math.ceil(n / 100));
        expect(many.reduce((s, c) => s + (c.args.length - 5) / 4, 0)).toBe(n);
        expect(many.reduce((s, c) => s + c.keys.length - 2, 0)).toBe(n);
      }),
      { numRuns: 50 },
    );
  });

  it('placeFresh and placeCids name every key known before the call, by the key builder', () => {
    const k = keys.cid;
    const items = [
      { number: '+12125550001', profile },
      {
        number: '+13125550002',
        profile: { ...profile, npa: '312', nxx: '312555', state: 'IL', pools: ['A', 'B'] },
      },
      { number: '+14155550003', profile: { ...profile, npa: null, nxx: null, state: null, pools: ['B'] } },
    ];
    const [fresh] = placeFreshCalls(k, items);
    const hashes = items.map((i) => k.number(i.number));
    expect(fresh!.keys.slice(0, 3)).toEqual(hashes);
    // Each number's tier sets, read back through the indexes its arguments give.
    const joined: string[][] = [];
    let at = 1;
    for (let n = 0; n < items.length; n++) {
      const ixs = String(fresh!.args[at + 7]).split(',');
      joined.push(ixs.map((ix) => fresh!.keys[Number(ix) - 1]!));
      at += 8;
    }
    expect(at).toBe(fresh!.args.length);
    expect(joined).toEqual([
      [k.pool('A', 'all'), k.pool('A', 'nxx', '212555'), k.pool('A', 'npa', '212'), k.pool('A', 'st', 'NY')],
      [
        k.pool('A', 'all'),
        k.pool('A', 'nxx', '312555'),
        k.pool('A', 'npa', '312'),
        k.pool('A', 'st', 'IL'),
        k.pool('B', 'all'),
        k.pool('B', 'nxx', '312555'),
        k.pool('B', 'npa', '312'),
        k.pool('B', 'st', 'IL'),
      ],
      [k.pool('B', 'all')],
    ]);
    // Each set once a call.
    expect(new Set(fresh!.keys).size).toBe(fresh!.keys.length);
    expect(varying('placeFresh')).toBe(true);
    expect(varying('placeCids')).toBe(true);
    const [many] = placeManyCalls(
      k,
      items.map((i) => ({ number: i.number, fields: ['a', '1'] })),
      now,
      b,
    );
    expect(many!.keys).toEqual([k.numberPrefix, k.poolPrefix, ...hashes]);
  });

  it('every routing slot key carries the {routing} tag, whatever the link, buckets and other cap owners', () => {
    expect(varying('takeSlot')).toBe(true);
    expect(varying('releaseSlot')).toBe(true);
    const bucket = { hour: '2026010110', day: '20260101', month: '202601' };
    const source = fc.record({
      kind: fc.constantFrom('seller' as const, 'did' as const, 'group' as const),
      id: fc.uuid(),
      buckets: fc.constant(bucket),
    });
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.array(source, { maxLength: 3 }),
        (linkId, slotId, sources) => {
          const ref = { linkId, slotId: slotId.replace(/[{}]/g, ''), buckets: bucket, sources };
          const ks = slotKeys(keys.routing, ref);
          // The slot's state, then five keys for the link and five for each other owner.
          expect(ks).toHaveLength(1 + 5 * (1 + sources.length));
          for (const k of ks) expect(tags(k)).toEqual(['{routing}']);
          expect(ks[0]).toBe(`cc:routing:{routing}:link:${linkId}:slot:${ref.slotId}`);
          expect(ks[1]).toBe(`cc:routing:{routing}:link:${linkId}:live`);
          for (const [i, o] of sources.entries())
            expect(ks[1 + 5 * (i + 1)]).toBe(`cc:routing:{routing}:${o.kind}:${o.id}:live`);
          // Six ARGV per owner after the eleven common ones; the slot keeps its owners to be released.
          const owners = [{ caps: none }, ...sources.map(() => ({ caps: none }))];
          expect(takeArgs(1, 2, ref, owners)).toHaveLength(11 + 6 * owners.length);
          // With a hold queue: the link's waiting line and what holds its waiters back before the
          // epoch marker, and the call's id, the stale bound and the link's wake-up after the owners' ARGV.
          const queue = { callId: 'call-1', staleBefore: 5 };
          const tk = takeKeys(keys.routing, ref, queue);
          expect(tk).toHaveLength(ks.length + 3);
          for (const k of tk) expect(tags(k)).toEqual(['{routing}']);
          expect(tk.at(-3)).toBe(`cc:routing:{routing}:link:${linkId}:waiting`);
          expect(tk.at(-2)).toBe(`cc:routing:{routing}:link:${linkId}:held`);
          expect(takeKeys(keys.routing, ref)).toEqual([...ks, keys.routing.epoch]);
          expect(takeArgs(1, 2, ref, owners, queue, 'wake').slice(11 + 6 * owners.length)).toEqual([
            'call-1',
            5,
            'wake',
            `l:${linkId}`,
          ]);
          expect(decodeSources(encodeSources(sources))).toEqual(sources);
        },
      ),
      { numRuns: 200 },
    );
    expect(tags(keys.routing.links)).toEqual(['{routing}']);
    expect(tags(keys.routing.campaign('c', 'rr'))).toEqual(['{routing}']);
  });

  it('the caller-ID key names are the ones the daemon has always used (no migration on upgrade)', () => {
    expect(keys.cid.ready).toBe('cc:cid:{cid}:ready');
    expect(keys.cid.dirty).toBe('cc:cid:{cid}:dirty');
    expect(keys.cid.rebuildLock).toBe('cc:cid:{cid}:rebuild-lock');
    expect(keys.cid.pool('P1', 'cfg')).toBe('cc:cid:{cid}:p:P1:cfg');
    expect(keys.cid.rate('ag', 7)).toBe('cc:cid:{cid}:rl:ag:7');
    expect(keys.cid.callSeen('x')).toBe('cc:cid:{cid}:seen:x');
    expect(keys.pbxApplyLock).toBe('cc:pbx:apply-lock');
  });
});

describe('reply codes', () => {
  it('decode every documented code and refuse any other', () => {
    expect(decodePick([1, '+12125550100', 5, 2])).toEqual({
      kind: 'picked',
      number: '+12125550100',
      expiresAt: 5,
      tier: 'npa',
    });
    expect(decodePick([0, -1])).toEqual({ kind: 'exhausted', nextAt: null });
    expect(decodePick([0, 9])).toEqual({ kind: 'exhausted', nextAt: 9 });
    expect(decodePick([-1, 300])).toEqual({ kind: 'rate_limited', retryAfterMs: 300 });
    expect(decodePick([-2])).toEqual({ kind: 'not_ready' });
    expect(decodePick([-3])).toEqual({ kind: 'unknown_pool' });
    expect(() => decodePick([1, '+1', 5, 9])).toThrow(ScriptReplyError);
    expect(() => decodePick([7])).toThrow(ScriptReplyError);
    expect(decodeHealth([-1])).toEqual({ ours: false, counted: false, restedUntil: null });
    expect(decodeHealth([0])).toEqual({ ours: true, counted: false, restedUntil: null });
    expect(decodeHealth([1, 500, 3])).toEqual({ ours: true, counted: true, restedUntil: null });
    expect(decodeHealth([2, 42])).toEqual({ ours: true, counted: true, restedUntil: 42 });
    expect(() => decodeHealth([3])).toThrow(ScriptReplyError);
    expect([1, 0, -1, -2, -3, -4, -5].map((r) => decodeTake(r))).toEqual([
      'taken',
      'duplicate',
      'concurrency',
      'hourly',
      'daily',
      'monthly',
      'total',
    ]);
    expect(() => decodeTake(-6)).toThrow(ScriptReplyError);
    expect(decodeTake(-200)).toBe('waiting');
    // Owner o's cap k answers -(10*o + k): owner 0 is the link, the others as the call passed them.
    expect([-11, -22, -35].map((r) => decodeTake(r, ['seller', 'did', 'group']))).toEqual([
      'seller_concurrency',
      'did_hourly',
      'group_total',
    ]);
    expect(() => decodeTake(-11)).toThrow(ScriptReplyError); // no owner 1 was passed
    expect(() => decodeTake(-16, ['seller'])).toThrow(ScriptReplyError);
    expect([2, 1, 0].map(decodeRelease)).toEqual(['answered', 'refunded', 'already']);
    expect(() => decodeRelease(3)).toThrow(ScriptReplyError);
    expect(decodeDone('x', 1)).toBe(true);
    expect(decodeDone('x', 0)).toBe(false);
    expect(() => decodeDone('x', 2)).toThrow(ScriptReplyError);
  });
});

describe('lock keep-alive', () => {
  it('is lost when Redis says so, or when Redis stays silent past the last confirmed expiry', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(true, false, null),
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 1e6 }),
        (extended, confirmedUntil, now) => {
          const s = lockState({ extended, confirmedUntil, now });
          const lost = extended === false || (extended === null && now >= confirmedUntil);
          expect(s).toBe(lost ? 'lost' : 'held');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('routing keys of the earlier layout', () => {
  it('map to their names under the {routing} tag, and nothing else is taken for one', () => {
    const k = new RedisKeys('cc').routing;
    expect(legacyRoutingName('cc', 'cc:link:{L1}:h:2026120502', k)).toBe(
      'cc:routing:{routing}:link:L1:h:2026120502',
    );
    expect(legacyRoutingName('cc', 'cc:link:{L1}:slot:s-1', k)).toBe(k.link('L1', 'slot', 's-1'));
    expect(legacyRoutingName('cc', 'cc:campaign:{c}:dup:+1310', k)).toBe(k.campaign('c', 'dup', '+1310'));
    expect(legacyRoutingName('cc', 'cc:routing:links', k)).toBe(k.links);
    for (const other of [
      'cc:cid:{cid}:n:+1',
      'cc:routing:{routing}:link:L1:live',
      'cx:link:{L1}:total',
      'cc:link:{L1}',
    ])
      expect(legacyRoutingName('cc', other, k)).toBeNull();
  });
});
