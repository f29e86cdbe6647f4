// Caller-ID rotation on real PostgreSQL and Redis: the /next-cid invariants (limits, reservations,
// local presence, LRU, rollover with an injected clock, per-agent rate limit, several pools),
// CRUD, stats, key roles and the CSV import.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { type CallerIdModule, createCallerIdModule } from '../../src/callerid/index.ts';
import { MAX_REJECTED } from '../../src/callerid/import.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

// Every log line of the daemons under test, at trace level: no key may ever appear in them.
const { log, lines: logLines } = capturingLogger('trace');
const T0 = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday, 10:00 UTC

describe('caller-ID rotation', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let d2: Daemon; // a second instance on the same PostgreSQL and Redis
  let clock = T0;
  let admin: string;
  let dialer: string;
  let seller: string;
  let poolN = 0;
  let config: ReturnType<typeof testConfig>;

  beforeAll(async () => {
    db = await freshDatabase();
    config = testConfig({
      DATABASE_URL: db.url,
      CID_RESERVATION_TTL_S: '60',
      CID_AGENT_RATE_PER_MIN: '30',
      CID_TIMEZONE: 'UTC',
      // No background sweep on these two instances: the tests below drive it themselves.
      CID_PROMOTE_INTERVAL_MS: '0',
      // Every /next-cid request logged too (the default is warn), so the key check below covers them.
      CID_REQUEST_LOG_LEVEL: 'trace',
    });
    d = await startDaemon(config, log, [(ctx) => createCallerIdModule(ctx, { now: () => clock })], {
      listen: false,
    });
    d2 = await startDaemon(
      { ...config, INSTANCE_ID: 'second' },
      log,
      [(ctx) => createCallerIdModule(ctx, { now: () => clock })],
      { listen: false },
    );
    const dbx = d.ctx.database.db;
    admin = (await createApiKey(dbx, { role: 'admin' })).key;
    dialer = (await createApiKey(dbx, { role: 'dialer' })).key;
    const [s] = await d.ctx.database.sql`insert into sellers (name) values ('s1') returning id`;
    seller = (await createApiKey(dbx, { role: 'seller', sellerId: s!.id as string })).key;
  });
  afterAll(async () => {
    await d2?.stop();
    await d?.stop();
    await db?.drop();
  });

  const api = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, key = admin) =>
    d.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${key}` },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const next = (q: string, key = dialer, on = d) =>
    on.app.inject({ method: 'GET', url: `/next-cid?${q}&key=${key}` });

  async function pool(
    numbers: Array<{ number: string; hourly_limit?: number; daily_limit?: number }>,
    extra: Record<string, unknown> = {},
  ): Promise<string> {
    const id = `P${++poolN}`;
    expect((await api('POST', '/v1/cid-pools', { id, ...extra })).statusCode).toBe(201);
    for (const n of numbers) {
      const r = await api('POST', '/v1/caller-ids', { campaigns: [id], ...n });
      expect(r.statusCode, r.body).toBe(201);
    }
    return id;
  }

  it('200 concurrent requests on 5 numbers with hourly limit 10, on two instances: never above the limit, never twice in a TTL, the rest 503', async () => {
    clock = T0;
    const nums = [0, 1, 2, 3, 4].map((i) => ({ number: `+1202555010${i}`, hourly_limit: 10 }));
    const id = await pool(nums);
    const perNumber = new Map<string, number>();
    let ok = 0;
    let exhausted = 0;
    // Rounds of 200 at once; between rounds the clock passes the 60 s reservation.
    for (let round = 0; round < 12; round++) {
      // Half of them through a second daemon instance sharing Redis.
      const rs = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          next(`campaign=${id}&agent=r${round}a${i}&to=2025550199`, dialer, i % 2 ? d2 : d),
        ),
      );
      const inRound = new Set<string>();
      for (const r of rs) {
        if (r.statusCode === 200) {
          const cid = r.json().caller_id as string;
          expect(inRound.has(cid), `${cid} handed out twice within its reservation`).toBe(false);
          inRound.add(cid);
          perNumber.set(cid, (perNumber.get(cid) ?? 0) + 1);
          ok++;
        } else {
          expect(r.statusCode).toBe(503);
          expect(r.json().error.code).toBe('POOL_EXHAUSTED');
          exhausted++;
        }
      }
      clock += 61_000;
    }
    expect(ok).toBe(50);
    expect(exhausted).toBe(12 * 200 - 50);
    for (const n of nums) expect(perNumber.get(n.number)).toBe(10);
  });

  it('local presence: NPA-NXX, then NPA, then state, then any', async () => {
    clock = T0 + 86_400_000;
    const id = await pool([
      { number: '+12125550100' }, // NY, other NPA: "any"
      { number: '+12135550100' }, // CA (213): same state as 415
      { number: '+14157770100' }, // 415, other NXX
      { number: '+14155550100' }, // 415-555
    ]);
    const got = [];
    for (let i = 0; i < 4; i++) {
      const r = await next(`campaign=${id}&agent=lp&to=%2B1%20(415)%20555-1234`);
      expect(r.statusCode, r.body).toBe(200);
      got.push([r.json().caller_id, r.json().match]);
    }
    expect(got).toEqual([
      ['+14155550100', 'npa_nxx'],
      ['+14157770100', 'npa'],
      ['+12135550100', 'state'],
      ['+12125550100', 'any'],
    ]);
    expect((await next(`campaign=${id}&agent=lp&to=4155551234`)).statusCode).toBe(503);
  });

  it('least recently used first within a tier', async () => {
    clock = T0 + 2 * 86_400_000;
    const id = await pool([
      { number: '+13125550101' },
      { number: '+13125550102' },
      { number: '+13125550103' },
    ]);
    const seq: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await next(`campaign=${id}&agent=lru${i}`);
      seq.push(r.json().caller_id);
      clock += 61_000;
    }
    // The first three are all different; from then on, the same cycle: always the oldest use.
    expect(new Set(seq.slice(0, 3)).size).toBe(3);
    expect(seq.slice(3)).toEqual([...seq.slice(0, 3), seq[0]]);
  });

  it('a pick through one tier counts as a use in every tier: least recently used holds across them', async () => {
    clock = T0 + 3 * 86_400_000;
    // Numbers never used tie at the same score and sort by number, so each tier's newcomer sorts
    // last: a use left out of a tier set would make the used number look unused there and win.
    const id = await pool([
      { number: '+17735550100' }, // Chicago 773-555
      { number: '+17735550101' }, // 773-555
      { number: '+17735560100' }, // 773-556
      { number: '+18155550100' }, // 815, Illinois too
      { number: '+19145550100' }, // 914, New York
    ]);
    const pick = async (to: string) => {
      const r = await next(`campaign=${id}&agent=tiers&to=${to}`);
      expect(r.statusCode, r.body).toBe(200);
      clock += 61_000; // past the reservation
      return [r.json().caller_id, r.json().match] as [string, string];
    };
    const first = await pick('7735550199');
    const second = await pick('7735550199');
    expect(first[1]).toBe('npa_nxx');
    expect(new Set([first[0], second[0]])).toEqual(new Set(['+17735550100', '+17735550101']));
    expect(await pick('7737770199')).toEqual(['+17735560100', 'npa']);
    expect(await pick('2175550199')).toEqual(['+18155550100', 'state']); // 217: Illinois, none of ours
    expect(await pick('5035550199')).toEqual(['+19145550100', 'any']);
    expect(await pick('5035550199')).toEqual([first[0], 'any']); // the oldest use of all
  });

  it('hourly and daily limits roll over at the hour and day boundary (injected clock)', async () => {
    clock = Date.UTC(2026, 0, 9, 22, 57, 0);
    const id = await pool([{ number: '+16175550100', hourly_limit: 2, daily_limit: 3 }]);
    const pick = async () => (await next(`campaign=${id}&agent=roll`)).statusCode;
    expect(await pick()).toBe(200); // 22:57:00
    clock += 61_000;
    expect(await pick()).toBe(200); // 22:58:01, second of the hour (reserved to 22:59:01)
    clock = Date.UTC(2026, 0, 9, 22, 59, 30); // past the reservation, at the hourly limit
    const r = await next(`campaign=${id}&agent=roll`);
    expect(r.statusCode).toBe(503);
    expect(Number(r.headers['retry-after'])).toBe(30); // usable again when the hour ends
    clock = Date.UTC(2026, 0, 9, 23, 0, 0);
    expect(await pick()).toBe(200); // new hour: third of the day
    clock += 61_000;
    expect(await pick()).toBe(503); // daily limit
    clock = Date.UTC(2026, 0, 9, 23, 59, 59, 999);
    expect(await pick()).toBe(503);
    clock = Date.UTC(2026, 0, 10, 0, 0, 0);
    expect(await pick()).toBe(200); // new day
  });

  it('after an hour boundary frees a whole pool, the sweep brings every number back, so local presence holds at once', async () => {
    clock = Date.UTC(2026, 0, 12, 10, 30, 0);
    // 39 numbers in 202-556 and one in 415-555; each may be used once an hour.
    const nums = Array.from({ length: 39 }, (_, i) => ({
      number: `+1202556${String(100 + i).padStart(4, '0')}`,
      hourly_limit: 1,
    }));
    const id = await pool([...nums, { number: '+14155550199', hourly_limit: 1 }]);
    for (let i = 0; i < 40; i++) expect((await next(`campaign=${id}&agent=sw${i}`)).statusCode).toBe(200);
    expect((await next(`campaign=${id}&agent=sw40`)).statusCode).toBe(503); // all at the limit
    const service = (d.ctx.modules.get('callerid') as CallerIdModule).service;
    const sizes = () => service.store.poolSizes(id, clock);

    // Next hour: all 40 are due again, but a pick brings back only its small batch (32, in the cool
    // set's order, where the 415 number comes last), so without the sweep it is not a candidate yet.
    clock = Date.UTC(2026, 0, 12, 11, 1, 0);
    const before = await next(`campaign=${id}&agent=sw41&to=4155550123`);
    expect(before.statusCode).toBe(200);
    expect(before.json().match).not.toBe('npa_nxx');
    expect((await sizes()).cooling).toBeGreaterThanOrEqual(8);

    // sweep(0): only the first pass, 10 numbers a pool, which is enough here (8 left).
    expect(await service.sweep(0)).toBeGreaterThanOrEqual(8);
    expect((await sizes()).cooling).toBe(1); // only the number just picked (at its hourly limit again)
    const after = await next(`campaign=${id}&agent=sw42&to=4155550123`);
    expect(after.json()).toMatchObject({ caller_id: '+14155550199', match: 'npa_nxx' });

    // The daemon runs the sweep on its own every CID_PROMOTE_INTERVAL_MS.
    clock = Date.UTC(2026, 0, 12, 12, 1, 0);
    const d3 = await startDaemon(
      { ...config, INSTANCE_ID: 'sweeper', CID_PROMOTE_INTERVAL_MS: 50 },
      log,
      [(ctx) => createCallerIdModule(ctx, { now: () => clock })],
      { listen: false },
    );
    try {
      for (let i = 0; i < 100 && (await sizes()).available < 40; i++)
        await new Promise((r) => setTimeout(r, 50));
      expect(await sizes()).toEqual({ available: 40, cooling: 0 });
    } finally {
      await d3.stop();
    }
  });

  it('the sweep goes through a large pool in calls of 100, within its budget of calls a run, and the next run goes on', async () => {
    clock = Date.UTC(2026, 0, 14, 9, 30, 0);
    const csv = Array.from({ length: 450 }, (_, i) => `+1303555${String(i).padStart(4, '0')},a,,,1`).join(
      '\n',
    );
    const r = await d.app.inject({
      method: 'POST',
      url: '/v1/caller-ids/import?campaign=SWEEPBIG',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: `caller_id,carrier,area_code,daily_limit,hourly_limit\n${csv}\n`,
    });
    expect(r.json()).toMatchObject({ imported: 450, rejected: [] });
    const service = (d.ctx.modules.get('callerid') as CallerIdModule).service;
    for (let i = 0; i < 450; i++)
      expect((await service.next({ pool: 'SWEEPBIG', agent: null })).kind).toBe('picked');
    clock = Date.UTC(2026, 0, 14, 10, 1, 0); // all 450 due again, none back yet
    const sizes = () => service.store.poolSizes('SWEEPBIG', clock);
    expect(await sizes()).toEqual({ available: 0, cooling: 450 });
    await service.sweep(1); // the first pass (10 a pool), and one call of 100
    expect(await sizes()).toEqual({ available: 110, cooling: 340 });
    await service.sweep(2);
    expect(await sizes()).toEqual({ available: 320, cooling: 130 });
    await service.sweep();
    expect(await sizes()).toEqual({ available: 450, cooling: 0 });
  });

  it('a reservation and a limit hold across every pool a number serves', async () => {
    clock = T0 + 3 * 86_400_000;
    const a = await pool([{ number: '+17185550100', hourly_limit: 2 }]);
    const b = await pool([]);
    expect((await api('PATCH', '/v1/caller-ids/+17185550100', { campaigns: [a, b] })).statusCode).toBe(200);
    expect((await next(`campaign=${a}&agent=x1`)).json().caller_id).toBe('+17185550100');
    expect((await next(`campaign=${b}&agent=x2`)).statusCode).toBe(503); // reserved through pool a
    clock += 61_000;
    expect((await next(`campaign=${b}&agent=x3`)).json().caller_id).toBe('+17185550100');
    clock += 61_000;
    expect((await next(`campaign=${a}&agent=x4`)).statusCode).toBe(503); // hourly limit reached via a + b
    expect((await next(`campaign=${b}&agent=x5`)).statusCode).toBe(503);
  });

  it('a fast agent gets 429 with Retry-After; other agents are not affected', async () => {
    clock = T0 + 4 * 86_400_000 + 30_000; // 30 s into a minute
    const id = await pool([{ number: '+13055550100' }]);
    const codes = [];
    for (let i = 0; i < 31; i++) codes.push((await next(`campaign=${id}&agent=fast`)).statusCode);
    expect(codes.slice(0, 30).every((c) => c === 200 || c === 503)).toBe(true);
    const r = await next(`campaign=${id}&agent=fast`);
    expect(r.statusCode).toBe(429);
    expect(r.json().error.code).toBe('RATE_LIMITED');
    expect(Number(r.headers['retry-after'])).toBe(30);
    expect((await next(`campaign=${id}&agent=slow`)).statusCode).not.toBe(429);
    clock += 30_000; // next minute
    expect((await next(`campaign=${id}&agent=fast`)).statusCode).not.toBe(429);
  });

  it('exhausted pool answers its fallback number when set; format=text answers the bare number', async () => {
    clock = T0 + 5 * 86_400_000;
    const id = await pool([{ number: '+14045550100' }], { fallback_number: '+14045550199' });
    const t = await next(`campaign=${id}&agent=t&format=text`);
    expect(t.statusCode).toBe(200);
    expect(t.headers['content-type']).toMatch(/^text\/plain/);
    expect(t.body).toBe('+14045550100');
    const f = await next(`campaign=${id}&agent=t`);
    expect(f.statusCode).toBe(200);
    expect(f.json()).toMatchObject({ caller_id: '+14045550199', fallback: true, expires_at: null });
    expect((await next(`campaign=NOPE&agent=t`)).statusCode).toBe(404);
    // Errors asked for as text are one line of text, same status and headers (a dialplan reads them).
    const gone = await next(`campaign=NOPE&agent=t&format=text`);
    expect(gone.statusCode).toBe(404);
    expect(gone.headers['content-type']).toMatch(/^text\/plain/);
    expect(gone.body).toBe('NOT_FOUND: pool NOPE not found\n');
    const nokey = await d.app.inject(`/next-cid?campaign=${id}&format=text`);
    expect(nokey.statusCode).toBe(401);
    expect(nokey.body).toMatch(/^UNAUTHENTICATED: /);
    const empty = await pool([{ number: '+14045550300' }]);
    expect((await next(`campaign=${empty}&agent=t2&format=text`)).statusCode).toBe(200);
    const out = await next(`campaign=${empty}&agent=t2&format=text`);
    expect(out.statusCode).toBe(503);
    expect(out.body).toMatch(/^POOL_EXHAUSTED: every caller ID of pool/);
    expect(Number(out.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    const bad = await next(`campaign=a%00b&agent=t&format=text`);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/^INVALID_TEXT: /);
    // Without format=text, errors stay JSON.
    expect((await next(`campaign=NOPE&agent=t`)).json().error.code).toBe('NOT_FOUND');
  });

  it('keys: dialer may only ask for caller IDs; seller may not; the key may come as header or key=', async () => {
    clock = T0 + 6 * 86_400_000;
    const id = await pool([{ number: '+15125550100' }]);
    expect((await next(`campaign=${id}`, seller)).statusCode).toBe(403);
    expect((await next(`campaign=${id}`, seller)).json().error.code).toBe('FORBIDDEN_ROLE');
    expect((await api('GET', '/v1/caller-ids', undefined, dialer)).statusCode).toBe(403);
    expect((await api('POST', '/v1/cid-pools', { id: 'X' }, dialer)).statusCode).toBe(403);
    expect((await api('GET', `/next-cid?campaign=${id}`, undefined, dialer)).statusCode).toBe(200);
    expect((await d.app.inject(`/next-cid?campaign=${id}`)).statusCode).toBe(401);
    expect((await d.app.inject(`/next-cid?campaign=${id}&key=cc_bad_key`)).statusCode).toBe(401);
    const ipKey = (await createApiKey(d.ctx.database.db, { role: 'dialer', allowIps: ['10.9.9.9/32'] })).key;
    expect((await next(`campaign=${id}`, ipKey)).json().error.code).toBe('FORBIDDEN_IP');
  });

  it('bad input gets 4xx and changes nothing', async () => {
    const before = await api('GET', '/v1/caller-ids?limit=1');
    for (const body of [
      { number: 'abc' },
      { number: '+14155550100', hourly_limit: -1 },
      { number: '+14155550100', area_code: '212' },
      { number: '+14155550100', campaigns: ['missing-pool'] },
    ]) {
      const r = await api('POST', '/v1/caller-ids', body);
      expect(r.statusCode, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
      expect(r.statusCode).toBeLessThan(500);
    }
    expect((await api('POST', '/v1/cid-pools', { id: 'bad id!' })).statusCode).toBe(400);
    expect((await next('campaign=bad%20id')).statusCode).toBe(400);
    expect((await api('GET', '/v1/caller-ids?limit=1')).json().total).toBe(before.json().total);
    // A campaign named twice: a validation error, not a database one, on create and on update.
    const id = await pool([{ number: '+14155550177' }]);
    const dup = await api('POST', '/v1/caller-ids', { number: '+14155550178', campaigns: [id, id] });
    expect(dup.statusCode, dup.body).toBe(400);
    expect(dup.json().error.code).toBe('VALIDATION_FAILED');
    const patch = await api('PATCH', '/v1/caller-ids/+14155550177', { campaigns: [id, id], hourly_limit: 7 });
    expect(patch.statusCode, patch.body).toBe(400);
    expect(patch.json().error.code).toBe('VALIDATION_FAILED');
    const after = (await api('GET', '/v1/caller-ids/+14155550177')).json();
    expect(after).toMatchObject({ campaigns: [id], hourly_limit: null });
    expect((await api('GET', '/v1/caller-ids/+14155550178')).statusCode).toBe(404);
  });

  it('names the pool a pool everywhere, and still takes (and answers) its older name campaign', async () => {
    clock = T0 + 6 * 86_400_000;
    const id = `P${++poolN}`;
    expect((await api('POST', '/v1/cid-pools', { id })).statusCode).toBe(201);
    const made = await api('POST', '/v1/caller-ids', { number: '+13055550140', pools: [id] });
    expect(made.statusCode, made.body).toBe(201);
    expect(made.json()).toMatchObject({ pools: [id], campaigns: [id] });
    // Both names at once is ambiguous: refused, nothing written.
    const both = await api('POST', '/v1/caller-ids', {
      number: '+13055550141',
      pools: [id],
      campaigns: [id],
    });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.code).toBe('VALIDATION_FAILED');
    expect((await api('GET', '/v1/caller-ids/+13055550141')).statusCode).toBe(404);
    expect((await api('GET', `/next-cid?pool=${id}&campaign=${id}`, undefined, dialer)).statusCode).toBe(400);
    expect((await api('GET', '/next-cid?agent=x', undefined, dialer)).statusCode).toBe(400);
    // /next-cid by either name; the answer carries both.
    const byPool = await next(`pool=${id}&agent=pn`);
    expect(byPool.json()).toMatchObject({ caller_id: '+13055550140', pool: id, campaign: id });
    const listed = (await api('GET', `/v1/caller-ids?pool=${id}`)).json();
    expect(listed.items.map((n: { number: string }) => n.number)).toEqual(['+13055550140']);
    expect((await api('GET', `/v1/caller-ids?campaign=${id}`)).json().total).toBe(1);
    const s = (await api('GET', `/v1/caller-ids/stats?pool=${id}`)).json();
    expect(s.pools[0]).toMatchObject({ pool: id, numbers: 1, reserved: 1 });
    expect(s.campaigns[0]).toMatchObject({ campaign: id, numbers: 1, reserved: 1 });
    expect((await api('GET', '/v1/caller-ids/stats?pool=NOPE')).statusCode).toBe(404);
    expect((await api('DELETE', `/v1/caller-ids/+13055550140?pool=${id}`)).statusCode).toBe(204);
    expect((await api('GET', '/v1/caller-ids/+13055550140')).json()).toMatchObject({ pools: [] });
  });

  it('stats show usage against limits, exhausted numbers and live reservations', async () => {
    clock = T0 + 7 * 86_400_000;
    const id = await pool([
      { number: '+12065550100', hourly_limit: 1 },
      { number: '+12065550101', hourly_limit: 5 },
    ]);
    await next(`campaign=${id}&agent=s`);
    await next(`campaign=${id}&agent=s`);
    const r = await api('GET', `/v1/caller-ids/stats?campaign=${id}`);
    expect(r.statusCode, r.body).toBe(200);
    const s = r.json();
    expect(s.campaigns[0]).toMatchObject({ campaign: id, numbers: 2, available: 0, cooling: 2, reserved: 2 });
    expect(s.campaigns[0].exhausted_hourly).toBe(1);
    const one = s.numbers.items.find((n: { number: string }) => n.number === '+12065550100');
    expect(one).toMatchObject({ uses_hour: 1, hourly_limit: 1, exhausted: 'hourly', total: 1 });
    expect(one.reserved_until).not.toBeNull();
    // Usage reaches PostgreSQL through the asynchronous flush.
    await (d.ctx.modules.get('callerid') as ReturnType<typeof createCallerIdModule>).service.flush();
    const g = await api('GET', '/v1/caller-ids/+12065550100');
    expect(g.json().usage).toMatchObject({
      uses_hour: 1,
      uses_day: 1,
      total: 1,
      last_used_at: new Date(clock).toISOString(),
      answered: 0,
      rested_until: null,
    });
  });

  it('imports a 20,000-line CSV, reports exactly the bad lines, is idempotent, and the pool serves the new numbers', async () => {
    clock = T0 + 8 * 86_400_000;
    const lines = ['caller_id,carrier,area_code,daily_limit,hourly_limit,state'];
    const bad = new Map<number, string>();
    for (let i = 0; i < 20_000; i++) {
      const line = i + 2; // the header is line 1
      const n = `+1415${String(2_000_000 + i).padStart(7, '0')}`;
      if (i % 997 === 13) {
        lines.push(`not-a-number,acme,415,100,10,CA`);
        bad.set(line, 'not a valid phone number');
      } else if (i % 1499 === 7) {
        lines.push(`${n},acme,415,lots,10,CA`);
        bad.set(line, 'daily_limit must be a whole number');
      } else if (i % 2003 === 5) {
        lines.push(`${n},acme,212,100,10,`);
        bad.set(line, "does not match the number's area code");
      } else lines.push(`${n},acme,${i % 2 ? '415' : ''},100,10,`);
    }
    const csv = `${lines.join('\n')}\n`;
    const imp = () =>
      d.app.inject({
        method: 'POST',
        url: '/v1/caller-ids/import?campaign=BULK',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
        payload: csv,
      });
    const r = await imp();
    expect(r.statusCode, r.body).toBe(200);
    const res = r.json();
    expect(res.lines).toBe(20_000);
    expect(res.imported).toBe(20_000 - bad.size);
    expect(res.pools_created).toEqual(['BULK']);
    expect(res.rejected.map((x: { line: number }) => x.line)).toEqual([...bad.keys()]);
    for (const x of res.rejected) expect(x.reason).toContain(bad.get(x.line));
    expect(res.rejected_total).toBe(bad.size);
    const again = (await imp()).json();
    expect(again.imported).toBe(res.imported);
    expect(again.pools_created).toEqual([]);
    const [c] = await d.ctx.database
      .sql`select count(*)::int as n from cid_pool_members where pool_id = 'BULK'`;
    expect(c!.n).toBe(res.imported);
    const s = (await api('GET', '/v1/caller-ids/stats?campaign=BULK&limit=1')).json();
    expect(s.campaigns[0]).toMatchObject({ numbers: res.imported, available: res.imported, cooling: 0 });
    const row = (await api('GET', '/v1/caller-ids/+14152000000')).json();
    expect(row).toMatchObject({ area_code: '415', state: 'CA', daily_limit: 100, hourly_limit: 10 });
    const p = await next('campaign=BULK&agent=bulk&to=4152000001');
    expect(p.json()).toMatchObject({ caller_id: '+14152000000', match: 'npa_nxx' }); // LRU tie: lowest number
    // A header naming no caller_id column is refused whole.
    const h = await d.app.inject({
      method: 'POST',
      url: '/v1/caller-ids/import',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: 'number,carrier\n+14155550100,x\n',
    });
    expect(h.statusCode).toBe(400);
  }, 120_000);

  it('a line with a stray or unterminated quote is rejected alone, at its own line; the rest is imported', async () => {
    const post = (payload: string, campaign = 'QUOTES') =>
      d.app.inject({
        method: 'POST',
        url: `/v1/caller-ids/import?campaign=${campaign}`,
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
        payload,
      });
    const csv = [
      'caller_id,carrier,area_code',
      '+14154000001,Acme,415', // 2
      '+14154000002,Acme "East" Co,415', // 3: a pair of stray quotes in an unquoted field
      '+14154000003,"unterminated,415', // 4: a quoted field that never closes
      '+14154000004,ok,415', // 5
      '', // 6 (empty: skipped, still counted as a line of the file)
      '+14154000005,x"y,415', // 7: one stray quote
      '+14154000006,"Quoted ""well"", Inc",415', // 8: valid quoting
      '+14154000007,last,415', // 9
    ].join('\r\n');
    const r = await post(`${csv}\r\n`);
    expect(r.statusCode, r.body).toBe(200);
    const res = r.json();
    expect(res.rejected.map((x: { line: number }) => x.line)).toEqual([3, 4, 7]);
    for (const x of res.rejected) expect(x.reason).toMatch(/^CSV: /);
    expect(res).toMatchObject({ lines: 7, imported: 4, rejected_total: 3 });
    const row = (await api('GET', '/v1/caller-ids/+14154000006')).json();
    expect(row.carrier).toBe('Quoted "well", Inc');
    for (const n of ['+14154000001', '+14154000004', '+14154000007'])
      expect((await api('GET', `/v1/caller-ids/${n}`)).statusCode).toBe(200);
    for (const n of ['+14154000002', '+14154000003', '+14154000005'])
      expect((await api('GET', `/v1/caller-ids/${n}`)).statusCode).toBe(404);
    // The last line unterminated, with no line break after it: rejected, the others kept.
    const tail = (await post('caller_id,carrier\n+14154000010,a\n+14154000011,"b')).json();
    expect(tail).toMatchObject({ imported: 1, rejected: [{ line: 3 }] });
    // Another content type is refused before its body is read, naming the one wanted.
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'application/xml']) {
      const r = await d.app.inject({
        method: 'POST',
        url: '/v1/caller-ids/import?campaign=QUOTES',
        headers: { authorization: `Bearer ${admin}`, 'content-type': type },
        payload: type === 'application/json' ? '{"caller_id":"+14154000030"}' : 'caller_id=+14154000030',
      });
      expect(r.statusCode, type).toBe(415);
      expect(r.json().error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(r.json().error.message).toContain('Content-Type: text/csv');
      expect(r.json().error.message).toContain(type);
    }
    // A header with broken quoting refuses the file whole, and imports nothing.
    const h = await post('caller_id,"carrier\n+14154000020,a\n', 'QUOTES_HDR');
    expect(h.statusCode, h.body).toBe(400);
    expect(h.json().error.message).toContain('line 1');
    expect((await api('GET', '/v1/caller-ids/+14154000020')).statusCode).toBe(404);
  });

  it('an import of more bad lines than it lists counts them all', async () => {
    const lines = ['caller_id,carrier,area_code,daily_limit,hourly_limit'];
    for (let i = 0; i < MAX_REJECTED + 5; i++) lines.push(`bad-${i},acme,415,1,1`);
    lines.push('+14153000001,acme,415,1,1');
    const r = await d.app.inject({
      method: 'POST',
      url: '/v1/caller-ids/import?campaign=CAPPED',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
      payload: `${lines.join('\n')}\n`,
    });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    const res = r.json();
    expect(res).toMatchObject({ lines: MAX_REJECTED + 6, imported: 1, rejected_total: MAX_REJECTED + 5 });
    expect(res.rejected).toHaveLength(MAX_REJECTED);
    expect(res.rejected[0]).toMatchObject({ line: 2 });
  });

  it('an import places fresh numbers usable at once, a zero limit in cooling, and a re-import keeps usage', async () => {
    clock = T0 + 8 * 86_400_000 + 3_600_000;
    const imp = (csv: string) =>
      d.app.inject({
        method: 'POST',
        url: '/v1/caller-ids/import?campaign=FRESH',
        headers: { authorization: `Bearer ${admin}`, 'content-type': 'text/csv' },
        payload: `caller_id,carrier,area_code,daily_limit,hourly_limit\n${csv}`,
      });
    // Two fresh numbers usable at once (the lean path) and one with hourly_limit 0 (the full one).
    const r = await imp('+15085550100,a,,,\n+15085550101,a,,,5\n+15085550102,a,,,0\n');
    expect(r.json()).toMatchObject({ imported: 3, rejected: [] });
    const s = (await api('GET', '/v1/caller-ids/stats?campaign=FRESH')).json();
    expect(s.campaigns[0]).toMatchObject({ numbers: 3, available: 2, cooling: 1, exhausted_hourly: 1 });
    const picked = (await next('campaign=FRESH&agent=f&to=5085559999')).json();
    expect(picked).toMatchObject({ caller_id: '+15085550100', match: 'npa_nxx' });
    // Re-imported (an update now, not a fresh insert): its use this hour and reservation hold.
    expect((await imp('+15085550100,b,,,\n')).json()).toMatchObject({ imported: 1 });
    const again = (await next('campaign=FRESH&agent=f&to=5085559999')).json();
    expect(again.caller_id).toBe('+15085550101');
    const one = (await api('GET', '/v1/caller-ids/stats?campaign=FRESH')).json();
    expect(one.numbers.items.find((x: { number: string }) => x.number === '+15085550100')).toMatchObject({
      uses_hour: 1,
      campaigns: ['FRESH'],
    });
    // A line with too many fields is rejected alone, not the lines after it.
    const long = await imp('+15085550110,a,,,,EXTRA\n+15085550111,a,,,\n+15085550112,a\n');
    expect(long.json()).toMatchObject({
      lines: 3,
      imported: 2,
      rejected: [{ line: 2, reason: 'wrong number of fields' }],
    });
  });

  it('CRUD: update limits and deactivate take effect on the hot path at once', async () => {
    clock = T0 + 9 * 86_400_000;
    const id = await pool([{ number: '+19175550100', hourly_limit: 0 }]);
    expect((await next(`campaign=${id}&agent=c`)).statusCode).toBe(503);
    expect((await api('PATCH', '/v1/caller-ids/+19175550100', { hourly_limit: 5 })).statusCode).toBe(200);
    expect((await next(`campaign=${id}&agent=c`)).statusCode).toBe(200);
    clock += 61_000;
    expect((await api('PATCH', '/v1/caller-ids/+19175550100', { active: false })).statusCode).toBe(200);
    expect((await next(`campaign=${id}&agent=c`)).statusCode).toBe(503);
    expect((await api('PATCH', '/v1/caller-ids/+19175550100', { active: true })).statusCode).toBe(200);
    expect((await next(`campaign=${id}&agent=c`)).statusCode).toBe(200);
    expect((await api('DELETE', '/v1/caller-ids/+19175550100')).statusCode).toBe(204);
    clock += 61_000;
    expect((await next(`campaign=${id}&agent=c`)).statusCode).toBe(503);
    expect((await api('GET', '/v1/caller-ids/+19175550100')).statusCode).toBe(404);
  });

  it('by default /next-cid requests are not logged at info (other routes are), and its 5xx still warn', async () => {
    const { log: infoLog, lines } = capturingLogger('info');
    const quiet = await startDaemon(
      // The same PostgreSQL and Redis keys, with the default level for /next-cid requests.
      { ...config, INSTANCE_ID: 'quiet', CID_REQUEST_LOG_LEVEL: 'warn' },
      infoLog,
      [(ctx) => createCallerIdModule(ctx, { now: () => clock })],
      { listen: false },
    );
    try {
      clock += 3_600_000;
      const id = await pool([{ number: '+15035550100' }]);
      lines.length = 0;
      expect((await next(`campaign=${id}&agent=q`, dialer, quiet)).statusCode).toBe(200);
      expect((await next(`campaign=${id}&agent=q`, dialer, quiet)).statusCode).toBe(503); // reserved
      const list = await quiet.app.inject({
        method: 'GET',
        url: '/v1/caller-ids?limit=1',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(list.statusCode).toBe(200);
      const parsed = lines.map((l) => JSON.parse(l) as { level: number; msg: string; req?: { url: string } });
      const urlOf = (l: (typeof parsed)[number]) => l.req?.url ?? '';
      // Fastify's "incoming request" line of the list route is there; none for /next-cid at info.
      expect(parsed.some((l) => urlOf(l).startsWith('/v1/caller-ids') && l.level === 30)).toBe(true);
      expect(parsed.filter((l) => l.level <= 30 && urlOf(l).startsWith('/next-cid'))).toEqual([]);
      // The exhausted pool's 503 is a warning, and warnings of the route still reach the log.
      expect(parsed.some((l) => l.level === 40 && l.msg.includes(id))).toBe(true);
    } finally {
      await quiet.stop();
    }
  });

  it('no API key ever reaches the logs (key= in the URL is redacted)', () => {
    const all = logLines.join('');
    expect(all).toContain('/next-cid?');
    expect(all).toContain('key=[redacted]');
    for (const k of [admin, dialer, seller]) expect(all).not.toContain(k.slice(12));
  });
});
