// Caller filters through the whole flow (simulator, daemon, PostgreSQL, Redis): anonymous callers,
// a caller calling again within the repeat window, blocklisted callers (seller's list, global list,
// CSV import) and callers from outside the allowed places are refused, each with its reason on the
// CDR; filters off change nothing.
import { describe, expect, it } from 'vitest';
import { flowForTests } from '../helpers/flow.ts';

describe('caller filters', () => {
  const f = flowForTests({ settle: true });
  const talk = { answerAfterMs: 10, hangupAfterMs: 50 };

  it('filters are off by default: an anonymous caller is routed', async () => {
    const c = await f.campaign({}, [{ behaviour: talk }]);
    const camp = await f.api(f.sellerKey, 'GET', `/v1/campaigns/${c.campaignId}`);
    expect(camp.json()).toMatchObject({
      reject_anonymous: false,
      repeat_window_s: null,
      use_blocklist: false,
      caller_regions: null,
    });
    f.sim.placeInboundCall({ did: c.did, callerNumber: '' });
    const [r] = await f.cdrsOnce(c.did);
    expect(r!.disposition).toBe('answered');
  });

  it('refuses anonymous callers, and only them', async () => {
    const c = await f.campaign({ reject_anonymous: true }, [{ behaviour: talk }]);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '' });
    await f.cdrsOnce(c.did, 1);
    f.sim.placeInboundCall({ did: c.did, callerNumber: 'anonymous' });
    await f.cdrsOnce(c.did, 2);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550150' });
    const rows = await f.cdrsOnce(c.did, 3);
    expect(rows.map((r) => r.disposition).sort()).toEqual([
      'anonymous_rejected',
      'anonymous_rejected',
      'answered',
    ]);
    for (const r of rows.filter((x) => x.disposition !== 'answered')) expect(r.attempts).toEqual([]);
  });

  it('refuses the same caller within the window, atomically when two arrive at once', async () => {
    const c = await f.campaign({ repeat_window_s: 3600 }, [{ behaviour: talk }]);
    // Two simultaneous arrivals of one caller: exactly one is routed, whichever Redis saw first.
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550151' });
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550151' });
    // Another caller is not affected.
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550152' });
    const rows = await f.cdrsOnce(c.did, 3);
    const of = (n: string) =>
      rows
        .filter((r) => r.caller_number === n)
        .map((r) => r.disposition)
        .sort();
    expect(of('+12125550151')).toEqual(['answered', 'repeat_rejected']);
    expect(of('+12125550152')).toEqual(['answered']);
  });

  it('refuses callers on the seller list or the global list; the CSV import reports bad lines by number', async () => {
    const c = await f.campaign({ use_blocklist: true }, [{ behaviour: talk }]);
    const own = await f.api(f.sellerKey, 'POST', '/v1/caller-blocks', {
      number: '(212) 555-0160',
      note: 'spam',
    });
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json()).toMatchObject({ seller_id: f.sellerId, number: '+12125550160' });
    // A seller key cannot touch the global list.
    expect(
      (
        await f.api(f.sellerKey, 'POST', '/v1/caller-blocks', { number: '+12125550161', seller_id: null })
      ).json().error.code,
    ).toBe('FORBIDDEN_ROLE');
    const csv = 'number,note\n+12125550161,robocaller\nnot a number\n212-555-0162\n+12125550161,again\n';
    const imp = await f.api(f.staffKey, 'POST', '/v1/caller-blocks/import?seller_id=global', csv, {
      'content-type': 'text/csv',
    });
    expect(imp.statusCode, imp.body).toBe(200);
    expect(imp.json()).toEqual({
      lines: 4,
      added: 2,
      already_listed: 1,
      rejected: [{ line: 3, reason: 'number "not a number" is not a valid phone number' }],
      rejected_total: 1,
    });
    const bad = await f.api(f.staffKey, 'POST', '/v1/caller-blocks/import', 'phone\n1', {
      'content-type': 'text/csv',
    });
    expect(bad.statusCode).toBe(400);
    // The seller sees its own list only.
    const mine = await f.api(f.sellerKey, 'GET', '/v1/caller-blocks');
    expect(mine.json().items.map((x: { number: string }) => x.number)).toEqual(['+12125550160']);

    for (const n of ['+12125550160', '+12125550161', '+12125550162', '+12125550163'])
      f.sim.placeInboundCall({ did: c.did, callerNumber: n });
    const rows = await f.cdrsOnce(c.did, 4);
    const by = Object.fromEntries(rows.map((r) => [r.caller_number, r.disposition]));
    expect(by).toEqual({
      '+12125550160': 'blocked_rejected',
      '+12125550161': 'blocked_rejected',
      '+12125550162': 'blocked_rejected',
      '+12125550163': 'answered',
    });
    // Unblocked, the caller gets through again.
    await f.api(f.sellerKey, 'DELETE', `/v1/caller-blocks/${own.json().id}`);
    f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125550160' });
    const again = await f.cdrsOnce(c.did, 5);
    expect(again[4]!.disposition).toBe('answered');
  });

  it('routes only callers from the allowed places', async () => {
    const bad = await f.api(f.sellerKey, 'POST', '/v1/campaigns', {
      name: 'x',
      caller_regions: ['New York'],
    });
    expect(bad.statusCode).toBe(400);
    const c = await f.campaign({ caller_regions: ['us-ny', 'CA'] }, [{ behaviour: talk }]);
    for (const n of ['+12125550170', '+14165550171', '+13055550172', '+442079460173'])
      f.sim.placeInboundCall({ did: c.did, callerNumber: n });
    const rows = await f.cdrsOnce(c.did, 4);
    const by = Object.fromEntries(rows.map((r) => [r.caller_number, r.disposition]));
    expect(by).toEqual({
      '+12125550170': 'answered', // New York
      '+14165550171': 'answered', // Toronto
      '+13055550172': 'region_rejected', // Miami
      '+442079460173': 'region_rejected', // London
    });
  });
});
