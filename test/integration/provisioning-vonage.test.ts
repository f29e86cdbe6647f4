// The Vonage client against the project's fake Vonage over real HTTP: every operation of the provider
// interface, Vonage's auth forms, and each carrier behaviour turned into the ProviderError kind the
// job runner decides on (420-that-succeeded is `uncertain`, 429 carries Retry-After, a slow answer runs
// out of its budget, a number taken between search and buy, an unprovisioned account).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { VonageProvider } from '../../src/provisioning/providers/vonage/provider.ts';
import { isProviderError, type ProviderError } from '../../src/provisioning/providers/types.ts';

const KEY = 'abcd1234';
const SECRET = 'Sup3rSecret';

describe('Vonage client against the fake carrier', () => {
  const fake = new FakeCarrier({ apiKey: KEY, apiSecret: SECRET, inventoryPerNpa: 5 });
  let v: VonageProvider;
  const throttled: Array<number | undefined> = [];
  const observed: string[] = [];
  const subSecrets = new Map<string, string>();
  const make = (secret = SECRET, timeoutMs = 2000) =>
    new VonageProvider(
      { apiKey: KEY, apiSecret: secret },
      {
        restUrl: fake.url,
        apiUrl: fake.url,
        timeoutMs,
        onThrottled: (ms) => void throttled.push(ms),
        observe: (op, outcome) => void observed.push(`${op}:${outcome}`),
        subaccountCredentials: async (k) => ({ apiKey: k, apiSecret: subSecrets.get(k)! }),
      },
    );
  const failure = async (p: Promise<unknown>): Promise<ProviderError> => {
    try {
      await p;
    } catch (e) {
      if (isProviderError(e)) return e;
      throw e;
    }
    throw new Error('expected a ProviderError');
  };

  beforeAll(async () => {
    await fake.listen();
    v = make();
  });
  afterAll(() => fake.close());

  it('searches an NPA with Vonage parameters and pages with index/size', async () => {
    const all = await v.search({
      country: 'US',
      pattern: '1415',
      match: 'starts',
      features: ['VOICE'],
      size: 100,
    });
    expect(all.count).toBe(5);
    expect(all.numbers.map((n) => n.msisdn)).toHaveLength(5);
    expect(all.numbers[0]).toMatchObject({ country: 'US', type: 'landline', features: ['VOICE', 'SMS'] });
    const p2 = await v.search({ country: 'US', pattern: '1415', size: 2, index: 2 });
    expect(p2.numbers.map((n) => n.msisdn)).toEqual(all.numbers.slice(2, 4).map((n) => n.msisdn));
    const ends = all.numbers[3]!.msisdn.slice(-7);
    const e = await v.search({ country: 'US', pattern: ends, match: 'ends' });
    expect(e.numbers.map((n) => n.msisdn)).toEqual([all.numbers[3]!.msisdn]);
    expect((await v.search({ country: 'GB', pattern: '44' })).count).toBe(0);
    expect((await failure(v.search({ country: 'US', size: 101 }))).kind).toBe('invalid');
  });

  it('buys, lists, configures (SIP and app) and releases; a second buy of an owned number is refused', async () => {
    const [n] = (await v.search({ country: 'US', pattern: '1212' })).numbers;
    await v.buy(n!, undefined);
    expect(fake.ownedBy(KEY)).toContain(n!.msisdn);
    // Vonage answers 420 "method failed" to buying a number that is no longer for sale: an uncertain write.
    const again = await failure(v.buy(n!, undefined));
    expect(again).toMatchObject({ kind: 'uncertain', detail: { status: 420, carrierCode: '420' } });
    await v.configure(n!, { type: 'sip', value: 'sip:+1@203.0.113.5' }, undefined);
    let owned = await v.owned(undefined, { pattern: n!.msisdn });
    expect(owned.numbers).toEqual([
      expect.objectContaining({ msisdn: n!.msisdn, voice: { type: 'sip', value: 'sip:+1@203.0.113.5' } }),
    ]);
    await v.configure(n!, { type: 'app', value: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab' }, undefined);
    owned = await v.owned(undefined, { pattern: n!.msisdn });
    expect(owned.numbers[0]!.voice).toEqual({ type: 'app', value: 'aaaaaaaa-bbbb-cccc-dddd-0123456789ab' });
    await v.release(n!, undefined);
    expect((await v.owned(undefined, { pattern: n!.msisdn })).count).toBe(0);
    expect((await failure(v.release(n!, undefined))).kind).toBe('uncertain');
  });

  it('acts for a subaccount with target_api_key and moves numbers between accounts', async () => {
    const s = await v.createSubaccount('seller-a');
    expect(s.secret).toBeTruthy();
    subSecrets.set(s.apiKey, s.secret!);
    expect((await v.listSubaccounts()).map((x) => x.apiKey)).toContain(s.apiKey);
    const [n] = (await v.search({ country: 'US', pattern: '1646' })).numbers;
    await v.buy(n!, s.apiKey);
    expect(fake.ownedBy(s.apiKey)).toEqual([n!.msisdn]);
    expect((await v.owned(s.apiKey)).numbers.map((x) => x.msisdn)).toEqual([n!.msisdn]);
    expect((await v.owned(undefined, { pattern: n!.msisdn })).count).toBe(0);
    await v.transfer(n!, s.apiKey, KEY);
    expect(fake.ownedBy(KEY)).toContain(n!.msisdn);
    expect((await failure(v.transfer(n!, s.apiKey, KEY))).detail.carrierCode).toBe('transfer-conflict');
  });

  it('SIP domains: create with an ACL, list, delete', async () => {
    const d = await v.createSipDomain({ name: 'acme-in', applicationId: null, acl: ['203.0.113.0/24'] });
    expect(d).toEqual({ name: 'acme-in', applicationId: null, acl: ['203.0.113.0/24'] });
    expect((await v.listSipDomains()).map((x) => x.name)).toEqual(['acme-in']);
    await v.deleteSipDomain('acme-in');
    expect(await v.listSipDomains()).toEqual([]);
  });

  it('classifies carrier failures', async () => {
    expect((await failure(make('wrong').search({ country: 'US', pattern: '1415' }))).kind).toBe('auth');
    expect((await failure(make('wrong').listSubaccounts())).kind).toBe('auth');

    fake.setFaults({
      npa: {
        '305': 'buy-420-succeeded',
        '312': 'buy-429-once',
        '313': 'buy-5xx-once',
        '314': 'no-inventory',
      },
    });
    const [a] = (await v.search({ country: 'US', pattern: '1305' })).numbers;
    const e420 = await failure(v.buy(a!, undefined));
    expect(e420.kind).toBe('uncertain');
    expect(fake.ownedBy(KEY)).toContain(a!.msisdn); // it did succeed: the caller must check before retrying

    const [b] = (await v.search({ country: 'US', pattern: '1312' })).numbers;
    const e429 = await failure(v.buy(b!, undefined));
    expect(e429).toMatchObject({ kind: 'transient', detail: { status: 429, retryAfterMs: 1000 } });
    expect(throttled).toContain(1000);
    await v.buy(b!, undefined);

    const [c] = (await v.search({ country: 'US', pattern: '1313' })).numbers;
    expect((await failure(v.buy(c!, undefined))).kind).toBe('uncertain'); // a 5xx on a write
    expect(fake.ownedBy(KEY)).not.toContain(c!.msisdn);

    expect((await v.search({ country: 'US', pattern: '1314' })).count).toBe(0);

    fake.setFaults({ npa: { '415': 'taken-after-search' } });
    const [t] = (await v.search({ country: 'US', pattern: '1415' })).numbers;
    expect((await failure(v.buy(t!, undefined))).kind).toBe('uncertain');
    expect(fake.ownedBy(KEY)).not.toContain(t!.msisdn);

    fake.setFaults({ slowRate: 1, slowMs: 400 });
    const slow = await failure(make(SECRET, 100).search({ country: 'US', pattern: '1415' }));
    expect(slow).toMatchObject({ kind: 'transient' });
    expect(slow.message).toMatch(/no answer within 100 ms/);
    const slowBuy = await failure(make(SECRET, 100).buy({ country: 'US', msisdn: '1' }, undefined));
    expect(slowBuy.kind).toBe('uncertain');
    fake.setFaults({ slowRate: 0 });
    expect(observed).toContain('search:timeout');

    fake.setFaults({ notProvisioned: true });
    const np = await failure(v.createSubaccount('x'));
    expect(np.kind).toBe('not_provisioned');
    expect(np.message).toMatch(/not provisioned/);
    fake.setFaults({ notProvisioned: false, maxSubaccounts: 1 });
    expect((await failure(v.createSubaccount('y'))).kind).toBe('limit');
    expect((await failure(v.createSubaccount(''))).kind).toBe('invalid');
  });

  it('never puts the secret into an error message', async () => {
    fake.setFaults({ rate5xx: 1 });
    const e = await failure(v.owned(undefined));
    fake.setFaults({ rate5xx: 0 });
    expect(e.kind).toBe('transient');
    expect(JSON.stringify({ m: e.message, d: e.detail })).not.toContain(SECRET);
  });
});
