// A whole inbound flow for integration tests: the simulator, the daemon (asterisk + routing modules)
// on real PostgreSQL and Redis, a seller with API keys, and helpers that configure campaigns through
// the API and read CDRs back.
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, testConfig, journalDir } from './env.ts';
import { simEnv } from './sim-env.ts';
import { waitFor } from './wait.ts';

export interface CdrRow {
  call_id: string;
  disposition: string;
  client_id: string | null;
  caller_number: string | null;
  attempts: Array<Record<string, unknown> & { result: string; client_id: string; link_id: string }>;
  not_routed: Array<{ link_id: string; client_id: string; reason: string }>;
  answered_at: Date | null;
  started_at: Date;
  duration_s: number;
  campaign_id: string | null;
  default_route: string | null;
}

/** What an injected request answers (the parts tests read). */
export interface Reply {
  statusCode: number;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a test reads whatever the route answered
  json(): any;
}

export interface Flow {
  d: Daemon;
  sim: Simulator;
  sellerId: string;
  staffKey: string;
  sellerKey: string;
  routing: RoutingModule;
  api(
    key: string,
    method: string,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<Reply>;
  /** A campaign (API fields) with one DID and a client per entry (endpoint behaviour, link fields). */
  campaign(
    fields: Record<string, unknown>,
    cls: Array<{ behaviour: Parameters<Simulator['setEndpoint']>[1]; link?: Record<string, unknown> }>,
  ): Promise<{
    did: string;
    campaignId: string;
    clients: Array<{ clientId: string; linkId: string; endpoint: string }>;
  }>;
  cdrs(did: string): Promise<CdrRow[]>;
  /** Waits until `did` has `n` CDRs, and returns them in arrival order. */
  cdrsOnce(did: string, n?: number): Promise<CdrRow[]>;
  stop(): Promise<void>;
}

/** `over`: configuration that differs from the tests' (e.g. a private Redis). */
export async function startFlow(over: Record<string, string> = {}): Promise<Flow> {
  const db = await freshDatabase();
  const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
  const cdrDir = journalDir();
  const config = testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir, ...over });
  const d = await startDaemon(
    config,
    createLogger({ level: 'silent' }),
    [createAsteriskModule, createRoutingModule],
    {
      listen: false,
    },
  );
  await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
  const routing = d.ctx.modules.get('routing') as RoutingModule;
  const staffKey = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
  const api: Flow['api'] = (key, method, url, payload, headers = {}) =>
    d.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key, ...headers },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const s = await api(staffKey, 'POST', '/v1/sellers', { name: 'acme' });
  const sellerId = s.json().id as string;
  const sellerKey = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId })).key;
  let n = 0;
  const ok = async (r: Reply) => {
    if (r.statusCode >= 300) throw new Error(`${r.statusCode} ${r.body}`);
    return r.json();
  };
  const flow: Flow = {
    d,
    sim,
    sellerId,
    staffKey,
    sellerKey,
    routing,
    api,
    async campaign(fields, cls) {
      const k = ++n;
      const c = await ok(await api(sellerKey, 'POST', '/v1/campaigns', { name: `c${k}`, ...fields }));
      const did = `+1415555${String(2000 + k).padStart(4, '0')}`;
      await ok(await api(sellerKey, 'POST', '/v1/dids', { number: did, campaign_id: c.id }));
      const out: Array<{ clientId: string; linkId: string; endpoint: string }> = [];
      for (const [i, cl] of cls.entries()) {
        const endpoint = `client-${k}-${i}`;
        sim.setEndpoint(endpoint, cl.behaviour);
        const client = await ok(await api(staffKey, 'POST', '/v1/clients', { name: endpoint, endpoint }));
        const l = await ok(
          await api(sellerKey, 'POST', `/v1/campaigns/${c.id}/links`, {
            client_id: client.id,
            priority: i,
            ...cl.link,
          }),
        );
        out.push({ clientId: client.id, linkId: l.id, endpoint });
      }
      return { did, campaignId: c.id, clients: out };
    },
    async cdrs(did) {
      await routing.cdr.flush();
      return d.ctx.database.sql<
        CdrRow[]
      >`select * from call_records where did = ${did} order by started_at, call_id`;
    },
    async cdrsOnce(did, count = 1) {
      return waitFor(async () => {
        const rows = await flow.cdrs(did);
        return rows.length >= count ? rows : undefined;
      });
    },
    async stop() {
      await d.stop();
      await sim.stop();
      await db.drop();
    },
  };
  return flow;
}

/**
 * The flow of a describe block: started before its first test, stopped after its last. With
 * `settle`, each test waits until the simulator has no live channel left, so the calls of one test
 * never run into the next. The object stands for the flow once it has started (in tests and hooks).
 */
export function flowForTests(o: { over?: Record<string, string>; settle?: boolean } = {}): Flow {
  let flow: Flow | undefined;
  beforeAll(async () => {
    flow = await startFlow(o.over);
  });
  afterAll(async () => {
    await flow?.stop();
  });
  if (o.settle)
    afterEach(async () => {
      await waitFor(() => flow!.sim.liveChannels().length === 0 || undefined);
    });
  return new Proxy({} as Flow, {
    get(_, key) {
      if (!flow) throw new Error('the flow starts before the first test: use it inside tests and hooks');
      return flow[key as keyof Flow];
    },
  });
}
