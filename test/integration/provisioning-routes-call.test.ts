// A number bought through provisioning routes a call with nothing configured by hand around it: the
// provider account writes its carrier trunk (calls from the carrier's addresses land in the trunk's
// context), the bought number becomes the seller's DID, the seller attaches it to a campaign linked to
// a client, and a call from the carrier to that number, entering where the trunk puts it, is routed
// through the simulator and answered by the client, with its CDR. Real PostgreSQL and Redis, the fake
// carrier, the Asterisk simulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

describe('a provisioned number routes a call', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  const fake = new FakeCarrier({ apiKey: 'k1', apiSecret: 's1', inventoryPerNpa: 3 });

  const api = async (key: string, method: string, url: string, payload?: unknown, status = 200) => {
    const r = await d.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    return r.json();
  };

  beforeAll(async () => {
    db = await freshDatabase();
    await fake.listen();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir }),
      createLogger({ level: 'silent' }),
      [createAsteriskModule, createRoutingModule, createPbxModule, (ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await fake.close();
    await db?.drop();
  });

  it('buys a number, which becomes a DID that routes a call to a client', async () => {
    const admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    const seller = await api(admin, 'POST', '/v1/sellers', { name: 'acme' }, 201);
    const sellerKey = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: seller.id })).key;
    const account = await api(
      admin,
      'POST',
      '/v1/provider-accounts',
      {
        name: 'vonage',
        provider: 'vonage',
        rest_url: fake.url,
        api_url: fake.url,
        api_key: 'k1',
        api_secret: 's1',
        rate_per_s: 50,
        signalling_cidrs: ['216.147.0.0/18'],
        voice: { type: 'sip', value: 'sip:{e164}@198.51.100.7' },
      },
      201,
    );
    // The carrier's calls enter where its trunk puts them: that is where the call below enters.
    const [trunk] = await d.ctx.database.sql<{ context: string }[]>`
      select context from ps_endpoints where id = ${account.trunk_endpoint}`;
    expect(trunk!.context).toBeTruthy();

    const bought = await api(
      admin,
      'POST',
      '/v1/numbers/provision',
      { provider_account_id: account.id, seller_id: seller.id, npa: '305' },
      201,
    );
    expect(bought.e164).toMatch(/^\+1305\d{7}$/);
    const did = await api(sellerKey, 'GET', `/v1/dids/${bought.did_id}`);
    expect(did).toMatchObject({ number: bought.e164, seller_id: seller.id, campaign_id: null });

    const client = await api(admin, 'POST', '/v1/clients', { name: 'buyer', endpoint: 'buyer-1' }, 201);
    sim.setEndpoint('buyer-1', { answerAfterMs: 20 });
    const campaign = await api(sellerKey, 'POST', '/v1/campaigns', { name: 'solar' }, 201);
    await api(sellerKey, 'POST', `/v1/campaigns/${campaign.id}/links`, { client_id: client.id }, 201);
    await api(sellerKey, 'PATCH', `/v1/dids/${bought.did_id}`, { campaign_id: campaign.id });

    const caller = sim.placeInboundCall({
      did: bought.e164,
      callerNumber: '+13055550123',
      context: trunk!.context,
    });
    const routing = d.ctx.modules.get('routing') as RoutingModule;
    await waitFor(() => routing.router!.live().find((c) => c.did === bought.e164 && c.phase === 'bridged'));
    sim.hangup(caller);
    const [cdr] = await waitFor(async () => {
      await routing.cdr.flush();
      const rows = await d.ctx.database.sql`
        select disposition, client_id, seller_id, campaign_id from call_records where did = ${bought.e164}`;
      return rows.length ? rows : undefined;
    });
    expect(cdr).toMatchObject({
      disposition: 'answered',
      client_id: client.id,
      seller_id: seller.id,
      campaign_id: campaign.id,
    });
  });
});
