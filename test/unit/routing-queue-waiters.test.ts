// This instance's hold-queue waiters: a link's wake-up gives a turn to the oldest local waiter of
// that link (and to those behind it while the ones ahead are held back by a cap of their own), a
// campaign's to the oldest of each link its waiters wait for, a freed slot's owners to the waiters
// they held back; wake-ups arriving during a turn make exactly one more, and the wake-up
// subscription is on exactly while someone waits here.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { capZones } from '../../src/routing/effects/hold-queue.ts';
import { hourWake, linkWake, nextBoundary, nextHourStart, parseWake } from '../../src/routing/queue-line.ts';
import { QueueWaiters } from '../../src/routing/queue-waiters.ts';

function setup() {
  const turns: string[] = [];
  const listening: boolean[] = [];
  let release: (() => void) | null = null;
  let hold = false;
  const w = new QueueWaiters(
    async (callId, cause) => {
      turns.push(`${callId}:${cause}`);
      if (hold) await new Promise<void>((r) => (release = r));
    },
    (on) => listening.push(on),
  );
  return {
    w,
    turns,
    listening,
    hold: (on: boolean) => {
      hold = on;
    },
    finish: async () => {
      const r = release;
      release = null;
      r?.();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('hold queue waiters', () => {
  it('a freed link wakes the oldest local waiter of that link only; other campaigns and links are left alone', () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1', 'l2']);
    t.w.add('c1', 'call-b', ['l1', 'l2']);
    t.w.add('c2', 'call-c', ['l3']);
    t.w.wake({ linkId: 'l2' });
    t.w.wake({ linkId: 'l9' });
    expect(t.turns).toEqual(['call-a:wake']);
  });

  it('a link wakes its own oldest waiter, not an older one of its campaign waiting for another link', () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c1', 'call-b', ['l2']);
    t.w.add('c1', 'call-c', ['l2']);
    t.w.wake({ linkId: 'l2' });
    expect(t.turns).toEqual(['call-b:wake']);
  });

  it("a campaign whose lines moved wakes the oldest of each of its links' lines, once each", () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1', 'l2']);
    t.w.add('c1', 'call-b', ['l2', 'l3']);
    t.w.add('c1', 'call-c', ['l3']);
    t.w.add('c2', 'call-d', ['l4']);
    t.w.wake({ campaignId: 'c1' });
    expect(t.turns.sort()).toEqual(['call-a:wake', 'call-b:wake']);
  });

  it('the campaign whose queue moved wakes its oldest; when it leaves, the next one is the oldest', async () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c1', 'call-b', ['l1']);
    t.w.remove('call-a');
    await new Promise((r) => setImmediate(r));
    t.w.wake({ campaignId: 'c1' });
    expect(t.turns).toEqual(['call-b:wake']);
  });

  it('wake-ups during a turn make one more turn after it, not one each', async () => {
    const t = setup();
    t.hold(true);
    t.w.add('c1', 'call-a', ['l1']);
    t.w.wake({ linkId: 'l1' });
    t.w.wake({ linkId: 'l1' });
    t.w.wake({ campaignId: 'c1' });
    expect(t.turns).toEqual(['call-a:wake']);
    t.hold(false);
    await t.finish();
    expect(t.turns).toEqual(['call-a:wake', 'call-a:wake']);
    await t.finish();
    expect(t.turns).toHaveLength(2);
  });

  it('listens while someone waits here, and only then', () => {
    const t = setup();
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c2', 'call-b', ['l2']);
    t.w.remove('call-a');
    t.w.remove('call-a');
    expect(t.listening).toEqual([true]);
    t.w.remove('call-b');
    expect(t.listening).toEqual([true, false]);
    t.w.wake({ linkId: 'l2' });
    expect(t.turns).toEqual([]);
    expect(t.w.size).toBe(0);
  });

  it('a waiter held back by a cap of its own does not keep a wake-up from those behind it', async () => {
    const t = setup();
    const settle = () => new Promise((r) => setImmediate(r));
    // Each step's turns are over before the next (a turn still running would be coalesced).
    const next = async () => {
      await settle();
      t.turns.length = 0;
    };
    t.w.add('c1', 'call-a', ['l1', 'l2']);
    t.w.add('c1', 'call-b', ['l1']);
    t.w.add('c1', 'call-c', ['l1']);
    t.w.add('c1', 'call-d', ['l2']);
    // a's seller is full: held back on l1 only. Those behind it there get a turn.
    t.w.hold('call-a', new Map([['l1', 'seller:s1']]));
    await settle();
    expect(t.turns).toEqual(['call-b:wake']);
    await next();
    // The same again changes nothing; a link wake-up turns a, then b (not held), and stops there.
    t.w.hold('call-a', new Map([['l1', 'seller:s1']]));
    t.w.wake({ linkId: 'l1' });
    await settle();
    expect(t.turns).toEqual(['call-a:wake', 'call-b:wake']);
    await next();
    // On l2 nothing holds a back: its wake-up stops at a.
    t.w.wake({ linkId: 'l2' });
    await settle();
    expect(t.turns).toEqual(['call-a:wake']);
    await next();
    // A slot freed elsewhere that counted against a's seller turns a (and the first of that line).
    t.w.wake({ linkId: 'l7', owners: ['did:d1', 'seller:s1'] });
    await settle();
    expect(t.turns).toEqual(['call-a:wake']);
    await next();
    t.w.wake({ linkId: 'l7', owners: ['seller:s2'] });
    await settle();
    expect(t.turns).toEqual([]);
    // No longer held back: a wake-up of l1 stops at a again.
    t.w.hold('call-a', new Map());
    t.w.wake({ linkId: 'l1' });
    await settle();
    expect(t.turns).toEqual(['call-a:wake']);
  });

  it("the waiter behind a held-back one is turned only after that one's own turn at the same wake-up has ended, and not when that turn finds it no longer held back", async () => {
    const t = setup();
    const settle = () => new Promise((r) => setImmediate(r));
    t.w.add('c1', 'call-a', ['l1']);
    t.w.add('c1', 'call-b', ['l1']);
    t.w.hold('call-a', new Map([['l1', 'seller:s1']]));
    await settle();
    t.turns.length = 0;
    t.hold(true);
    t.w.wake({ linkId: 'l1' });
    await settle();
    // a's turn runs (its own refusal now decides its mark); b waits for it.
    expect(t.turns).toEqual(['call-a:wake']);
    // a's turn finds its seller's cap still full: b's turn follows.
    t.w.hold('call-a', new Map([['l1', 'seller:s1']]));
    await t.finish();
    expect(t.turns).toEqual(['call-a:wake', 'call-b:wake']);
    await t.finish();
    t.turns.length = 0;
    // Its seller's cap raised meanwhile: a's turn finds nothing of its own holding it back (it takes
    // the slot or waits for the link itself), so b is not judged by a's old mark at this wake-up.
    t.w.wake({ linkId: 'l1' });
    await settle();
    expect(t.turns).toEqual(['call-a:wake']);
    t.w.hold('call-a', new Map());
    await t.finish();
    await t.finish();
    expect(t.turns).toEqual(['call-a:wake']);
    // A plan change turns every waiter the same way: each line in order, one after another.
    t.w.hold('call-a', new Map([['l1', 'seller:s1']]));
    await settle();
    await t.finish();
    t.turns.length = 0;
    t.w.everyone();
    await settle();
    expect(t.turns).toEqual(['call-a:wake']);
    await t.finish();
    expect(t.turns).toEqual(['call-a:wake', 'call-b:wake']);
    t.hold(false);
    await t.finish();
  });

  it('reads the messages the slot scripts and a leaving call publish, and nothing else', () => {
    expect(parseWake('l:abc')).toEqual({ linkId: 'abc' });
    expect(parseWake('l:abc|seller:s1|did:d2')).toEqual({ linkId: 'abc', owners: ['seller:s1', 'did:d2'] });
    expect(parseWake(linkWake('abc', [{ kind: 'group', id: 'g' }]))).toEqual({
      linkId: 'abc',
      owners: ['group:g'],
    });
    expect(parseWake('c:xyz')).toEqual({ campaignId: 'xyz' });
    expect(parseWake('hello')).toBeNull();
  });

  it('property: a link wake-up turns the local waiters of that link in line order up to the first not held back there', async () => {
    const ev = fc.oneof(
      fc.record({ k: fc.constant('add' as const), links: fc.subarray(['l1', 'l2', 'l3'], { minLength: 1 }) }),
      fc.record({ k: fc.constant('remove' as const), pick: fc.nat(30) }),
      fc.record({ k: fc.constant('wake' as const), link: fc.constantFrom('l1', 'l2', 'l3') }),
      fc.record({
        k: fc.constant('hold' as const),
        pick: fc.nat(30),
        links: fc.subarray(['l1', 'l2', 'l3']),
      }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(ev, { maxLength: 40 }), async (evs) => {
        const turns: string[] = [];
        // Turns end at once (and change no mark): each event's turns are over before the next.
        const w = new QueueWaiters(
          async (id) => {
            turns.push(id);
          },
          () => {},
        );
        const waiting: Array<{ id: string; links: string[]; held: Set<string> }> = [];
        // The model: the waiters of a link in line order, up to and with the first not held there.
        const walk = (link: string) => {
          const out: string[] = [];
          for (const x of waiting.filter((x) => x.links.includes(link))) {
            out.push(x.id);
            if (!x.held.has(link)) break;
          }
          return out;
        };
        const settle = () => new Promise((r) => setImmediate(r));
        let n = 0;
        for (const e of evs) {
          const before = turns.length;
          if (e.k === 'add') {
            const id = `call-${++n}`;
            waiting.push({ id, links: e.links, held: new Set() });
            w.add('c1', id, e.links);
          } else if (e.k === 'remove' && waiting.length) {
            const [x] = waiting.splice(e.pick % waiting.length, 1);
            w.remove(x!.id);
          } else if (e.k === 'wake') {
            w.wake({ linkId: e.link });
            await settle();
            expect(turns.slice(before)).toEqual(walk(e.link));
          } else if (e.k === 'hold' && waiting.length) {
            const x = waiting[e.pick % waiting.length]!;
            const on = e.links.filter((l) => x.links.includes(l));
            const fresh = on.filter((l) => !x.held.has(l));
            x.held = new Set(on);
            w.hold(x.id, new Map(on.map((l) => [l, 'seller:s'])));
            await settle();
            expect(turns.slice(before).sort()).toEqual(
              [...new Set(fresh.flatMap((l) => walk(l)).filter((id) => id !== x.id))].sort(),
            );
          }
          expect(w.size).toBe(waiting.length);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('hold queue waiters at the turn of the hour', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("the next hour starts on the zone's own clock: whole-hour, half-hour and quarter-hour zones, and across a clock change", () => {
    const t = Date.UTC(2026, 11, 5, 22, 10, 30, 250);
    expect(new Date(nextHourStart('UTC', t)).toISOString()).toBe('2026-12-05T23:00:00.000Z');
    expect(new Date(nextHourStart('America/New_York', t)).toISOString()).toBe('2026-12-05T23:00:00.000Z');
    // Kolkata is UTC+5:30, Kathmandu UTC+5:45, Chatham UTC+13:45 in its summer.
    expect(new Date(nextHourStart('Asia/Kolkata', t)).toISOString()).toBe('2026-12-05T22:30:00.000Z');
    expect(new Date(nextHourStart('Asia/Kathmandu', t)).toISOString()).toBe('2026-12-05T22:15:00.000Z');
    expect(new Date(nextHourStart('Pacific/Chatham', t)).toISOString()).toBe('2026-12-05T22:15:00.000Z');
    // Exactly on the hour: the next one, not this one.
    expect(nextHourStart('UTC', Date.UTC(2026, 0, 1, 5))).toBe(Date.UTC(2026, 0, 1, 6));
    // New York falls back at 06:00 UTC on 1 Nov 2026: 01:00 EDT comes, then 01:00 EST an hour later.
    expect(new Date(nextHourStart('America/New_York', Date.UTC(2026, 10, 1, 5, 20))).toISOString()).toBe(
      '2026-11-01T06:00:00.000Z',
    );
    expect(nextBoundary(['UTC', 'Asia/Kolkata', 'Asia/Kathmandu'], t)).toBe(Date.UTC(2026, 11, 5, 22, 15));
    expect(nextBoundary([], t)).toBeNull();
  });

  it('property: the next hour start is within an hour, on a whole local hour', () => {
    const zones = ['UTC', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/St_Johns', 'Australia/Lord_Howe'];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
        fc.constantFrom(...zones),
        (t, z) => {
          const n = nextHourStart(z, t);
          expect(n).toBeGreaterThan(t);
          expect(n - t).toBeLessThanOrEqual(3_600_000);
          const local = new Intl.DateTimeFormat('en-GB', {
            timeZone: z,
            minute: '2-digit',
            second: '2-digit',
          }).format(n);
          expect(local).toBe('00:00');
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the zones a waiter waits under: links with hour-counted caps or concurrency by hour, their groups, the seller's and DID's in the default zone", () => {
    const caps = { concurrency: 1, hourly: null, daily: null, monthly: null, total: null };
    const link = (linkId: string, over: Record<string, unknown> = {}) =>
      ({ linkId, timezone: null, caps, ...over }) as never;
    const plan = {
      links: [
        link('a', { timezone: 'Asia/Kolkata', caps: { ...caps, hourly: 5 } }),
        link('b', { timezone: 'Asia/Tokyo', concurrencySchedule: { '1': [2] } }),
        link('c', { group: { id: 'g', caps: { ...caps, daily: 9 }, timezone: 'Asia/Kathmandu' } }),
        link('d', { timezone: 'Europe/Paris', caps: { ...caps, monthly: 1 } }),
      ],
      sources: [{ kind: 'did', id: 'x', caps: { ...caps, daily: 1 } }],
    } as never;
    expect(capZones(plan, ['a', 'b', 'c'], 'UTC').sort()).toEqual(
      ['Asia/Kathmandu', 'Asia/Kolkata', 'Asia/Tokyo', 'UTC'].sort(),
    );
    expect(capZones({ links: [link('a')] } as never, ['a'], 'UTC')).toEqual([]);
  });

  it('every waiter gets a turn when a new hour starts in a zone its caps count in, by the routing clock, and again each hour; none once nobody waits', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    // The routing clock: 20 s before 23:00 in Kolkata (17:30 UTC), whatever the machine's time.
    let now = Date.UTC(2026, 11, 5, 17, 29, 40);
    const turns: string[] = [];
    const w = new QueueWaiters(
      async (id, cause) => {
        turns.push(`${id}:${cause}`);
      },
      () => {},
      () => now,
    );
    w.add('c1', 'call-a', ['l1'], ['Asia/Kolkata']);
    w.add('c1', 'call-b', ['l2'], []);
    const pass = async (ms: number) => {
      now += ms;
      await vi.advanceTimersByTimeAsync(ms);
    };
    await pass(19_000);
    expect(turns).toEqual([]);
    await pass(1_010);
    expect(turns.sort()).toEqual(['call-a:wake', 'call-b:wake']);
    turns.length = 0;
    // The next is an hour later on that clock.
    await pass(3_599_000);
    expect(turns).toEqual([]);
    await pass(1_000);
    expect(turns.sort()).toEqual(['call-a:wake', 'call-b:wake']);
    turns.length = 0;
    // An earlier zone joins: its hour's start comes first (Kathmandu turns at :15 UTC).
    w.add('c1', 'call-c', ['l3'], ['Asia/Kathmandu']);
    await pass(45 * 60_000 + 10);
    expect(turns.sort()).toEqual(['call-a:wake', 'call-b:wake', 'call-c:wake']);
    turns.length = 0;
    for (const id of ['call-a', 'call-b', 'call-c']) w.remove(id);
    await pass(2 * 3_600_000);
    expect(turns).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("with a cluster: the hour is claimed, not turned here; the claim's message turns every waiter here once; a claim that cannot tell turns them here", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let now = Date.UTC(2026, 11, 5, 17, 59, 50);
    const turns: string[] = [];
    const claims: number[] = [];
    let answer: 'mine' | 'theirs' | 'unknown' = 'theirs';
    const w = new QueueWaiters(
      async (id, cause) => {
        turns.push(`${id}:${cause}`);
      },
      () => {},
      () => now,
      {
        claim: async (at) => {
          claims.push(at);
          if (answer === 'unknown') throw new Error('Redis away');
          return answer === 'mine';
        },
      },
    );
    w.add('c1', 'call-a', ['l1'], ['UTC']);
    w.add('c1', 'call-b', ['l2'], []);
    const pass = async (ms: number) => {
      now += ms;
      await vi.advanceTimersByTimeAsync(ms);
    };
    await pass(10_010);
    // Claimed by another instance (or here): no turn until the claim's message is heard.
    expect(claims).toEqual([Date.UTC(2026, 11, 5, 18)]);
    expect(turns).toEqual([]);
    const msg = parseWake(hourWake(claims[0]!));
    expect(msg).toEqual({ hour: claims[0] });
    w.wake(msg!);
    await vi.advanceTimersByTimeAsync(0);
    expect(turns.sort()).toEqual(['call-a:wake', 'call-b:wake']);
    turns.length = 0;
    // Redis cannot say who claimed the next hour: the waiters here are turned rather than forgotten.
    answer = 'unknown';
    await pass(3_600_000);
    expect(claims).toEqual([Date.UTC(2026, 11, 5, 18), Date.UTC(2026, 11, 5, 19)]);
    expect(turns.sort()).toEqual(['call-a:wake', 'call-b:wake']);
    w.close();
  });

  it('runs on the timer it is given: a routing clock moved forward past the hour wakes at once', async () => {
    let now = Date.UTC(2026, 11, 5, 17, 0, 0);
    const due: { at: number; fn: () => void }[] = [];
    const turns: string[] = [];
    const w = new QueueWaiters(
      async (id) => {
        turns.push(id);
      },
      () => {},
      () => now,
      {
        at: (at, fn) => {
          const t = { at, fn };
          due.push(t);
          return () => due.splice(due.indexOf(t), 1);
        },
      },
    );
    w.add('c1', 'call-a', ['l1'], ['Asia/Kolkata']);
    // 17:30 UTC is 23:00 in Kolkata; the timer is asked for just past it.
    expect(due.map((t) => t.at)).toEqual([Date.UTC(2026, 11, 5, 17, 30) + 5]);
    now = Date.UTC(2026, 11, 5, 17, 30, 0, 5);
    due.shift()!.fn();
    await Promise.resolve();
    expect(turns).toEqual(['call-a']);
    // The next one, an hour on.
    expect(due.map((t) => t.at)).toEqual([Date.UTC(2026, 11, 5, 18, 30) + 5]);
    w.remove('call-a');
    expect(due).toEqual([]);
  });
});
