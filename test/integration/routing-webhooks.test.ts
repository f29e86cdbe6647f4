// Routing's webhooks through the simulator, real PostgreSQL, Redis and BullMQ, and a loopback
// receiver: a link's daily cap refusing a call sends `cap.reached` once for the day and the unrouted
// call `route.failed` once per reason (later ones are throttled, on every instance, by Redis); each
// call's CDR becomes a signed `call.completed` postback to its seller's subscription (and never to
// another seller's); losing the Asterisk node sends `node.down`.
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { verify } from '../../src/provisioning/webhooks/sign.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

interface Got {
  path: string;
  event: string;
  body: { id: string; type: string; data: Record<string, unknown> };
  raw: string;
  signature: string;
}

describe('routing webhooks', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let receiver: Server;
  let base = '';
  const got: Got[] = [];
  const seller: Record<string, string> = {};
  const subs: Record<string, { id: string; secret: string }> = {};
  let did = '';
  let linkId = '';

  const routing = () => d.ctx.modules.get('routing') as RoutingModule;
  const of = (path: string, event?: string) =>
    got.filter((g) => g.path === path && (!event || g.event === event));
  const metric = async (name: string, event: string) => {
    const m = (await d.ctx.metrics.getSingleMetric(name)?.get())?.values ?? [];
    return m.find((v) => v.labels.event === event)?.value ?? 0;
  };
  const cdrs = async () => {
    await routing().cdr.flush();
    return d.ctx.database.sql<{ call_id: string; disposition: string }[]>`
      select call_id, disposition from call_records where did = ${did} order by started_at`;
  };

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = journalDir();
    receiver = createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        got.push({
          path: req.url ?? '',
          event: String(req.headers['capconduit-event']),
          body: JSON.parse(raw),
          raw,
          signature: String(req.headers['capconduit-signature']),
        });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        ...simEnv(sim),
        CDR_BUFFER_DIR: cdrDir,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        ALERT_THROTTLE_S: '3600',
      }),
      createLogger({ level: 'silent' }),
      [createAsteriskModule, createRoutingModule, (ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    const dbx = d.ctx.database.db;
    const admin = (await createApiKey(dbx, { role: 'admin' })).key;
    const subscribe = async (key: string, path: string, events: string[]) => {
      const r = await d.app.inject({
        method: 'POST',
        url: '/v1/webhooks',
        headers: { 'x-api-key': key },
        payload: { url: `${base}${path}`, events },
      });
      expect(r.statusCode, r.body).toBe(201);
      subs[path] = r.json();
    };
    for (const name of ['acme', 'bolt']) {
      seller[name] = await seedSeller(dbx, name);
      const key = (await createApiKey(dbx, { role: 'seller', sellerId: seller[name] })).key;
      await subscribe(key, `/postback/${name}`, ['call.completed']);
    }
    await subscribe(admin, '/ops', ['cap.reached', 'route.failed', 'node.down']);
    did = '+14155550199';
    sim.setEndpoint('client-a', { answerAfterMs: 20 });
    const c = await seedCampaign(dbx, {
      sellerId: seller.acme!,
      campaign: { name: 'auto' },
      dids: [did],
      clients: [{ name: 'a', endpoint: 'client-a', link: { dailyCap: 1 } }],
    });
    linkId = c.links[0]!.linkId;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    receiver?.close();
    await db?.drop();
  });

  it("posts each call's outcome to its seller, signed, once its CDR is written", async () => {
    const caller = sim.placeInboundCall({ did, callerNumber: '+12125550000' });
    await waitFor(() =>
      routing()
        .router!.live()
        .find((x) => x.did === did && x.phase === 'bridged'),
    );
    sim.hangup(caller);
    const [cdr] = await waitFor(async () => ((await cdrs()).length ? cdrs() : undefined));
    const [p] = await waitFor(() => (of('/postback/acme').length ? of('/postback/acme') : undefined));
    expect(p!.event).toBe('call.completed');
    expect(verify(subs['/postback/acme']!.secret, p!.signature, p!.raw)).toBe(true);
    expect(p!.body.data).toMatchObject({
      call_id: cdr!.call_id,
      seller_id: seller.acme,
      did,
      disposition: 'answered',
    });
  });

  it('sends cap.reached once for the day and route.failed once per reason; later ones are throttled', async () => {
    for (let i = 0; i < 2; i++) {
      sim.placeInboundCall({ did, callerNumber: `+1212555010${i}` });
      await waitFor(async () => (await cdrs()).length === 2 + i);
    }
    expect((await cdrs()).map((c) => c.disposition)).toEqual(['answered', 'no_client', 'no_client']);
    // The second refused call's alerts were looked at and held back (an event, not a delay).
    await waitFor(async () => (await metric('capconduit_alerts_throttled_total', 'cap.reached')) >= 1);
    await waitFor(async () => (await metric('capconduit_alerts_throttled_total', 'route.failed')) >= 1);
    await waitFor(() => of('/ops', 'cap.reached').length && of('/ops', 'route.failed').length);
    await waitFor(() => of('/postback/acme').length === 3);
    const rows = await d.ctx.database.sql<{ event: string; status: string }[]>`
      select event, status from webhook_deliveries where event in ('cap.reached', 'route.failed')`;
    expect(rows.map((r) => r.event).sort()).toEqual(['cap.reached', 'route.failed']);
    const cap = of('/ops', 'cap.reached')[0]!;
    expect(verify(subs['/ops']!.secret, cap.signature, cap.raw)).toBe(true);
    expect(cap.body.data).toMatchObject({
      owner: 'link',
      owner_id: linkId,
      cap: 'daily',
      seller_id: seller.acme,
    });
    expect(of('/ops', 'route.failed')[0]!.body.data).toMatchObject({
      reason: 'no_client',
      did,
      seller_id: seller.acme,
      not_routed: [{ link_id: linkId, reason: 'daily' }],
    });
    // Another seller's postback subscription saw none of these calls.
    expect(of('/postback/bolt')).toEqual([]);
  });

  it('sends node.down when the link to the Asterisk node is lost', async () => {
    await sim.stop();
    const [e] = await waitFor(() => (of('/ops', 'node.down').length ? of('/ops', 'node.down') : undefined));
    expect(e!.body.data).toMatchObject({ node_id: d.ctx.config.asteriskNodes[0]!.id, link: 'ari' });
  });
});
