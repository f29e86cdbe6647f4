// Pure caller-ID decisions: limit buckets (property-tested across zones and boundaries), callee
// facts, CSV record validation and the AMI events number health reads.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calleeFacts, cidBuckets, factsOf, normaliseNumber } from '../../src/callerid/decide.ts';
import { outcomeOf } from '../../src/callerid/health.ts';
import { validateRecord } from '../../src/callerid/import.ts';
import { pickCall } from '../../src/callerid/store.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';

const ZONES = ['UTC', 'America/New_York', 'America/Los_Angeles', 'Asia/Kolkata', 'Australia/Lord_Howe'];

describe('cidBuckets', () => {
  it('a bucket holds until its end and changes exactly there', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2030, 0, 1) }),
        fc.constantFrom(...ZONES),
        (t, tz) => {
          const b = cidBuckets(t, tz);
          expect(b.hourEnd).toBeGreaterThan(t);
          expect(b.hourEnd - t).toBeLessThanOrEqual(3_600_000);
          expect(b.dayEnd).toBeGreaterThanOrEqual(b.hourEnd);
          expect(b.dayEnd - t).toBeLessThanOrEqual(25 * 3_600_000);
          const justBefore = cidBuckets(b.hourEnd - 1, tz);
          expect(justBefore.hour).toBe(b.hour);
          expect(cidBuckets(b.hourEnd, tz).hour).not.toBe(b.hour);
          expect(cidBuckets(b.dayEnd - 1, tz).day).toBe(b.day);
          expect(cidBuckets(b.dayEnd, tz).day).not.toBe(b.day);
        },
      ),
      {
        numRuns: 300,
        // Changes of offset, always: Los Angeles falling back (the repeated 01 hour), Lord Howe
        // falling back and springing forward by half an hour.
        examples: [
          [Date.UTC(2027, 10, 7, 8, 0), 'America/Los_Angeles'],
          [Date.UTC(2027, 2, 14, 9, 30), 'America/Los_Angeles'],
          [Date.UTC(2027, 3, 3, 14, 10), 'Australia/Lord_Howe'],
          [Date.UTC(2027, 3, 3, 15, 15), 'Australia/Lord_Howe'],
          [Date.UTC(2026, 9, 3, 15, 0), 'Australia/Lord_Howe'],
        ],
      },
    );
  });
  it('where clocks go back, the repeated hour is a bucket of its own', () => {
    // 2027-11-07 in Los Angeles: 01:00-02:00 PDT (08:00-09:00 UTC), then 01:00-02:00 PST again.
    const first = cidBuckets(Date.UTC(2027, 10, 7, 8, 30), 'America/Los_Angeles');
    const again = cidBuckets(Date.UTC(2027, 10, 7, 9, 30), 'America/Los_Angeles');
    expect(first).toMatchObject({ hour: '2027110701', hourEnd: Date.UTC(2027, 10, 7, 9, 0) });
    expect(again).toMatchObject({ hour: '2027110701-60', hourEnd: Date.UTC(2027, 10, 7, 10, 0) });
    expect(again.day).toBe(first.day);
    // Where they go forward, no label repeats: the plain labels stay.
    expect(cidBuckets(Date.UTC(2026, 2, 8, 10, 30), 'America/Los_Angeles').hour).toBe('2026030803');
    // Ordinary days keep the plain label.
    expect(cidBuckets(Date.UTC(2027, 10, 8, 9, 30), 'America/Los_Angeles').hour).toBe('2027110801');
  });

  it('local days in a zone', () => {
    const t = Date.UTC(2026, 2, 8, 4, 30); // 23:30 in New York the day before (EST)
    expect(cidBuckets(t, 'America/New_York')).toMatchObject({ day: '20260307', hour: '2026030723' });
    expect(cidBuckets(t, 'America/New_York').dayEnd).toBe(Date.UTC(2026, 2, 8, 5, 0));
    // The DST day in New York is 23 hours long.
    expect(cidBuckets(Date.UTC(2026, 2, 8, 5, 0), 'America/New_York').dayEnd).toBe(
      Date.UTC(2026, 2, 9, 4, 0),
    );
  });
});

describe('numbers', () => {
  it('normalises operator spellings and refuses what is not a number', () => {
    expect(normaliseNumber('(415) 555-2671')).toBe('+14155552671');
    expect(normaliseNumber('+1 415 555 2671')).toBe('+14155552671');
    expect(normaliseNumber('14155552671')).toBe('+14155552671');
    expect(normaliseNumber('+442079460958')).toBe('+442079460958');
    for (const bad of ['', 'abc', '123', '+1 000 555 2671', '4155552671x'])
      expect(normaliseNumber(bad), bad).toBeNull();
  });
  it('derives NPA, NPA-NXX and state', () => {
    expect(factsOf('+14155552671')).toMatchObject({ npa: '415', nxx: '415555', state: 'CA' });
    expect(factsOf('+14165550100')).toMatchObject({ npa: '416', state: 'ON' });
    expect(factsOf('+442079460958')).toMatchObject({ npa: null, state: null });
    expect(calleeFacts('1-212-555-0100')).toMatchObject({ npa: '212', nxx: '212555', state: 'NY' });
    expect(calleeFacts('not a number')).toBeNull();
    expect(calleeFacts(undefined)).toBeNull();
  });
});

describe('CSV record validation', () => {
  it('accepts a good record, deriving what is absent', () => {
    expect(validateRecord({ caller_id: '4155552671', daily_limit: '100', hourly_limit: '' }, 'P')).toEqual({
      number: '+14155552671',
      carrier: '',
      npa: '415',
      state: 'CA',
      hourly: '',
      daily: '100',
      pool: 'P',
    });
  });
  it('names the reason of each bad record', () => {
    expect(validateRecord({ caller_id: '' }, null)).toContain('empty');
    expect(validateRecord({ caller_id: 'x' }, null)).toContain('not a valid phone number');
    expect(validateRecord({ caller_id: '4155552671', area_code: '212' }, null)).toContain('does not match');
    expect(validateRecord({ caller_id: '4155552671', hourly_limit: '-1' }, null)).toContain('hourly_limit');
    expect(validateRecord({ caller_id: '4155552671', state: 'California' }, null)).toContain('state');
    expect(validateRecord({ caller_id: '4155552671', campaign: 'bad id' }, null)).toContain('campaign');
    expect(validateRecord({ caller_id: '4155552671', pool: 'bad id' }, null)).toContain('pool');
  });
  it('takes the pool from the pool column or its older name, campaign', () => {
    expect(validateRecord({ caller_id: '4155552671', pool: 'A' }, null)).toMatchObject({ pool: 'A' });
    expect(validateRecord({ caller_id: '4155552671', campaign: 'B' }, null)).toMatchObject({ pool: 'B' });
    expect(validateRecord({ caller_id: '4155552671' }, 'C')).toMatchObject({ pool: 'C' });
  });
});

describe('health events', () => {
  const ev = (event: string, fields: Record<string, string>) => ({
    event,
    fields: { event, ...fields },
    multi: {},
  });
  it('Hangup: our number as caller or connected line; answered when the channel was Up', () => {
    expect(
      outcomeOf(
        ev('Hangup', { calleridnum: '4155552671', channelstate: '6', linkedid: 'L1', uniqueid: 'U' }),
        'hangup',
      ),
    ).toEqual({ callId: 'h:L1', candidates: ['+14155552671'], answered: true });
    expect(
      outcomeOf(
        ev('Hangup', {
          calleridnum: '<unknown>',
          connectedlinenum: '+14155552671',
          channelstate: '5',
          uniqueid: 'U2',
        }),
        'hangup',
      ),
    ).toEqual({ callId: 'h:U2', candidates: ['+14155552671'], answered: false });
    expect(outcomeOf(ev('Hangup', { calleridnum: '<unknown>', uniqueid: 'U' }), 'hangup')).toBeNull();
    expect(outcomeOf(ev('Cdr', { source: '4155552671', uniqueid: 'U' }), 'hangup')).toBeNull();
  });
  it('Cdr: Source and Disposition', () => {
    expect(
      outcomeOf(ev('Cdr', { source: '+14155552671', disposition: 'NO ANSWER', uniqueid: 'U9' }), 'cdr'),
    ).toEqual({ callId: 'c:U9', candidates: ['+14155552671'], answered: false });
    expect(
      outcomeOf(ev('Cdr', { source: '+14155552671', disposition: 'ANSWERED', uniqueid: 'U9' }), 'cdr')
        ?.answered,
    ).toBe(true);
  });
});

describe('pick script arguments', () => {
  it('every key of a pick shares one hash tag (legal on Redis Cluster), whatever the callee', () => {
    const keys = new RedisKeys('cc').cid;
    fc.assert(
      fc.property(
        fc.option(fc.stringMatching(/^\d{10}$/), { nil: undefined }),
        fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/),
        (to, pool) => {
          const c = pickCall(keys, {
            pool,
            callee: calleeFacts(to),
            agent: 'a1',
            now: Date.UTC(2026, 0, 1, 10, 0, 30),
            ttlMs: 60_000,
            buckets: cidBuckets(Date.UTC(2026, 0, 1, 10, 0, 30), 'UTC'),
            ratePerMin: 10,
            promoteBatch: 32,
          });
          expect(c.keys).toHaveLength(12); // the 12 of pickCid-12.lua
          for (const k of c.keys) expect(k.match(/\{[^}]*\}/g)).toEqual(['{cid}']);
          expect(c.keys[1]).toBe(`cc:cid:{cid}:p:${pool}:cool`);
          expect(c.keys[5]).toBe(`cc:cid:{cid}:p:${pool}:all`);
          const f = calleeFacts(to);
          expect(c.keys[2]).toBe(`cc:cid:{cid}:p:${pool}:nxx:${f?.nxx ?? ''}`);
          expect(c.keys[8]).toBe(`cc:cid:{cid}:p:${pool}:cfg`);
          // The prefixes the script names data-keyed keys with (cid-common.lua's number_key, pool_key).
          expect(c.keys.slice(9, 11)).toEqual(['cc:cid:{cid}:n:', 'cc:cid:{cid}:p:']);
          // The pool's own ready marker: served while the rest of the state is rebuilt.
          expect(c.keys[11]).toBe(`cc:cid:{cid}:p:${pool}:ready`);
          expect(keys.number('+12125550100')).toBe('cc:cid:{cid}:n:+12125550100');
          expect(c.args[0]).toBe(pool);
          // The rate window ends at the next minute boundary.
          expect(c.args[9]).toBe(Date.UTC(2026, 0, 1, 10, 1, 0));
        },
      ),
    );
  });
});
