// Provisioned endpoints through the simulator, which reads the same realtime tables as Asterisk:
// a new endpoint is dialable at once (routing dials it by name), an unregistered one and a deleted
// one fail like chan_pjsip fails them, PBX users dial each other through [internal], and apply
// sees the endpoints over AMI.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { seedCampaign, seedSeller } from '../helpers/seed.ts';
import { waitFor } from '../helpers/wait.ts';

describe('provisioned endpoints through the simulator', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let staff: string;
  let sellerId: string;
  let n = 0;

  const api = (method: string, url: string, payload?: unknown) =>
    d.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': staff },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0, databaseUrl: db.url });
    cdrDir = journalDir();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir }),
      createLogger({ level: 'silent' }),
      [createAsteriskModule, createRoutingModule, createPbxModule],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
    sellerId = await seedSeller(d.ctx.database.db, 'acme');
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });
  afterEach(async () => {
    await waitFor(() => sim.liveChannels().length === 0 || undefined);
  });

  /** A campaign with one DID and one client whose routing endpoint is `endpoint`. */
  async function campaignFor(endpoint: string) {
    const k = ++n;
    const did = `+1415555${String(2000 + k).padStart(4, '0')}`;
    const c = await seedCampaign(d.ctx.database.db, {
      sellerId,
      campaign: { name: `c${k}`, maxAttempts: 1 },
      dids: [did],
      clients: [{ name: `client ${k}`, endpoint }],
    });
    return { did, clientId: c.links[0]!.clientId };
  }
  const cdrs = async (did: string) => {
    await (d.ctx.modules.get('routing') as RoutingModule).cdr.flush();
    return d.ctx.database.sql<
      Array<{ disposition: string; client_id: string | null; attempts: Array<{ result: string }> }>
    >`select disposition, client_id, attempts from call_records where did = ${did} order by started_at`;
  };
  /** One inbound call: the caller hangs up once a client leg is answered (or the call ends alone). */
  const callAndWait = async (did: string, nth: number) => {
    const caller = sim.placeInboundCall({ did, callerNumber: '+12125550100' });
    const rows = await waitFor(async () => {
      if (sim.liveChannels().some((c) => c.name.startsWith('PJSIP/') && c.state === 'Up')) sim.hangup(caller);
      const r = await cdrs(did);
      return r.length >= nth ? r : undefined;
    });
    return rows[nth - 1]!;
  };

  it('IP client endpoint: dialable the moment it is provisioned, fails again once deleted', async () => {
    const c = await campaignFor('centre-ip');
    // Nothing provisioned yet: Asterisk has no such endpoint (allocation fails -> unavailable).
    expect(await callAndWait(c.did, 1)).toMatchObject({ disposition: 'all_failed' });
    const r = await api('POST', `/v1/pbx/clients/${c.clientId}/endpoint`, {
      kind: 'ip',
      name: 'centre-ip',
      ips: ['127.0.0.1'],
      contact: { host: '127.0.0.1', port: 5070 },
    });
    expect(r.statusCode, r.body).toBe(201);
    // No reload, no restart: the next call reaches it.
    const ok = await callAndWait(c.did, 2);
    expect(ok).toMatchObject({ disposition: 'answered', client_id: c.clientId });
    expect((await api('DELETE', `/v1/pbx/clients/${c.clientId}/endpoint`)).statusCode).toBe(204);
    expect(await callAndWait(c.did, 3)).toMatchObject({ disposition: 'all_failed' });
  });

  it('registration client: not dialable until it registers (a contact row), then answered', async () => {
    const c = await campaignFor('placeholder');
    const r = await api('POST', `/v1/pbx/clients/${c.clientId}/endpoint`, { kind: 'registration' });
    expect(r.statusCode, r.body).toBe(201);
    const username = r.json().credentials.username as string;
    // Routing now dials the provisioned endpoint by name (the campaign's plan was not cached yet).
    const failed = await callAndWait(c.did, 1);
    expect(failed).toMatchObject({ disposition: 'all_failed' });
    expect(failed.attempts.map((a) => a.result)).toEqual(['unavailable']);
    // What Asterisk's registrar writes when the phone registers (contact sorcery mapped to ps_contacts).
    await d.ctx.database.sql`insert into ps_contacts (id, uri, endpoint, expiration_time)
      values (${`${username};@0f1e2d`}, ${`sip:${username}@127.0.0.1:5062`}, ${username}, 4102444800)`;
    expect(await callAndWait(c.did, 2)).toMatchObject({ disposition: 'answered', client_id: c.clientId });
  });

  it('PBX users call each other through [internal]; an unregistered user is absent (cause 20)', async () => {
    const a = (await api('POST', '/v1/pbx/users', { name: 'A', email: 'a@example.com' })).json();
    const b = (await api('POST', '/v1/pbx/users', { name: 'B', email: 'b@example.com' })).json();
    expect([a.extension, b.extension]).toEqual([1000, 1001]);
    await d.ctx.database.sql`insert into ps_contacts (id, uri, endpoint)
      values ('1001;@aa', 'sip:1001@127.0.0.1:5063', '1001')`;
    // 1000 calls 1001 (registered): the call is answered.
    const up = sim.placeInboundCall({ did: '1001', callerNumber: '1000', context: 'internal' });
    await waitFor(() => sim.liveChannels().find((c) => c.id === up && c.state === 'Up'));
    sim.hangup(up);
    // 1001 calls 1000 (never registered): Dial gets CHANUNAVAIL and the dialplan hangs up with 20.
    const causes = new Map<string, number>();
    sim.events.on('channel-destroyed', (id: string, cause: number) => causes.set(id, cause));
    const absent = sim.placeInboundCall({ did: '1000', callerNumber: '1001', context: 'internal' });
    expect(await waitFor(() => causes.get(absent))).toBe(20);
    // A deleted user is as unknown as one that never existed.
    expect((await api('DELETE', `/v1/pbx/users/${b.id}`)).statusCode).toBe(204);
    const gone = sim.placeInboundCall({ did: '1001', callerNumber: '1000', context: 'internal' });
    expect(await waitFor(() => causes.get(gone))).toBe(20);
  });

  it('apply reloads res_pjsip and finds every provisioned endpoint over AMI', async () => {
    const r = await api('POST', '/v1/pbx/apply', { triggered_by: 'test' });
    expect(r.statusCode, r.body).toBe(200);
    const rep = r.json();
    const names = (await d.ctx.database.sql`select endpoint from pbx_endpoints order by endpoint`).map(
      (x) => x.endpoint,
    );
    expect(names.length).toBeGreaterThan(0);
    expect(rep).toMatchObject({ ok: true, endpoints: names.length });
    expect(rep.nodes).toHaveLength(1);
    expect(rep.nodes[0]).toMatchObject({
      node: 'asterisk-1',
      reachable: true,
      reload: { ok: true, message: 'Module Reloaded' },
    });
    expect(rep.nodes[0].endpoints).toEqual(
      names.map((endpoint) => ({ endpoint, visible: true, reason: null })),
    );
  });
});
