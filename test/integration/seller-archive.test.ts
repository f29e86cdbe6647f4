// Archived sellers and switched-off DIDs, through the API and a daemon routing simulated calls: an
// archived seller's DID takes no call (its CDR says `seller_archived`, with the seller kept), its API
// keys stop and its console users are disabled, it leaves the default list and pick lists but keeps
// its rows, refuses changes and new rows with SELLER_ARCHIVED, and routes again once restored; a DID
// switched off ends its calls `did_inactive`. Archive and restore are recorded in the audit trail.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createAuditModule } from '../../src/audit/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule, type RoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { keyedRequests } from '../helpers/api.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

describe('archived sellers and switched-off DIDs', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let cdrDir: string;
  let staff: string;
  const call = keyedRequests(() => d.app);

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    cdrDir = mkdtempSync(join(tmpdir(), 'cc-cdr-'));
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url, ...simEnv(sim), CDR_BUFFER_DIR: cdrDir }),
      createLogger({ level: 'silent' }),
      [createAsteriskModule, createRoutingModule, createAuditModule],
      { listen: false },
    );
    await waitFor(async () => (await d.app.inject('/ready')).statusCode === 200);
    staff = (await createApiKey(d.ctx.database.db, { role: 'staff', label: 'ops' })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
    if (cdrDir) rmSync(cdrDir, { recursive: true, force: true });
  });
  afterEach(async () => {
    await waitFor(() => sim.liveChannels().length === 0 || undefined);
  });

  const ok = async (method: string, url: string, body?: unknown, status = 200) => {
    const r = await call(staff, method, url, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    return r.body ? r.json() : null;
  };
  const cdrOf = async (did: string) => {
    await (d.ctx.modules.get('routing') as RoutingModule).cdr.flush();
    return d.ctx.database.sql<Array<{ disposition: string; seller_id: string | null }>>`
      select disposition, seller_id from call_records where did = ${did} order by started_at`;
  };
  /** Places a call to `did` and waits for its CDR (the `n`th of the number); hangs up if it rings. */
  const callOnce = async (did: string, n: number) => {
    const caller = sim.placeInboundCall({ did, callerNumber: `+1212555${String(1000 + n)}` });
    const router = (d.ctx.modules.get('routing') as RoutingModule).router!;
    const rows = await waitFor(async () => {
      if (router.live().some((x) => x.did === did && x.phase === 'bridged')) sim.hangup(caller);
      const x = await cdrOf(did);
      return x.length === n ? x : undefined;
    });
    return rows[n - 1]!;
  };

  /** A seller with a campaign, a client that answers, a link and a DID, made through the API. */
  async function setup(name: string, did: string) {
    const s = await ok('POST', '/v1/sellers', { name }, 201);
    sim.setEndpoint(`${name}-cc`, { answerAfterMs: 20 });
    const c = await ok('POST', '/v1/clients', { name: `${name}-cc`, endpoint: `${name}-cc` }, 201);
    const camp = await ok('POST', '/v1/campaigns', { name: 'main', seller_id: s.id }, 201);
    await ok('POST', `/v1/campaigns/${camp.id}/links`, { client_id: c.id }, 201);
    const dd = await ok('POST', '/v1/dids', { number: did, seller_id: s.id, campaign_id: camp.id }, 201);
    return { seller: s, campaign: camp, did: dd };
  }

  it('an archived seller routes nothing, loses its keys and users, keeps its rows, and routes again once restored', async () => {
    const { seller, did } = await setup('acme', '+14155550101');
    expect(seller.archived_at).toBeNull();
    expect((await callOnce(did.number, 1)).disposition).toBe('answered');

    const key = await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: seller.id });
    expect((await call(key.key, 'GET', '/v1/campaigns')).statusCode).toBe(200);
    await d.ctx.database.sql`insert into console_users (email, password_hash, role, seller_id)
      values ('acme@example.com', 'x', 'seller', ${seller.id})`;

    const a = await ok('POST', `/v1/sellers/${seller.id}/archive`);
    expect(a).toMatchObject({ revoked_api_keys: 1, disabled_console_users: 1 });
    expect(a.seller.archived_at).toEqual(expect.any(String));
    // Its key stops at once; its console user is disabled.
    expect((await call(key.key, 'GET', '/v1/campaigns')).statusCode).toBe(401);
    const [u] = await d.ctx.database
      .sql`select disabled_at from console_users where email = 'acme@example.com'`;
    expect(u!.disabled_at).not.toBeNull();

    // The call to its DID ends at once, its record naming the seller and why.
    const r = await callOnce(did.number, 2);
    expect(r).toMatchObject({ disposition: 'seller_archived', seller_id: seller.id });

    // Out of the default list, in the archived one and in both; its rows are all still there.
    const ids = async (q: string) =>
      ((await ok('GET', `/v1/sellers${q}`)).items as Array<{ id: string }>).map((x) => x.id);
    expect(await ids('')).not.toContain(seller.id);
    expect(await ids('?archived=true')).toEqual([seller.id]);
    expect(await ids('?archived=any')).toContain(seller.id);
    expect((await ok('GET', `/v1/sellers/${seller.id}`)).archived_at).toEqual(a.seller.archived_at);
    expect((await ok('GET', `/v1/dids?seller_id=${seller.id}`)).total).toBe(1);
    expect((await ok('GET', `/v1/calls?did=${encodeURIComponent(did.number)}`)).items).toHaveLength(2);
    expect((await call(staff, 'GET', '/v1/sellers?archived=maybe')).statusCode).toBe(400);

    // Illegal moves: a stable 409 each, nothing changed.
    const refused = async (method: string, url: string, body: unknown, code: string) => {
      const x = await call(staff, method, url, body);
      expect(x.statusCode, x.body).toBe(409);
      expect(x.json().error.code).toBe(code);
    };
    await refused('POST', `/v1/sellers/${seller.id}/archive`, undefined, 'SELLER_ARCHIVED');
    await refused('PATCH', `/v1/sellers/${seller.id}`, { daily_cap: 5 }, 'SELLER_ARCHIVED');
    await refused('POST', '/v1/campaigns', { name: 'new', seller_id: seller.id }, 'SELLER_ARCHIVED');
    await refused('POST', '/v1/dids', { number: '+14155550199', seller_id: seller.id }, 'SELLER_ARCHIVED');
    await expect(
      createApiKey(d.ctx.database.db, { role: 'seller', sellerId: seller.id }),
    ).rejects.toMatchObject({ code: 'SELLER_ARCHIVED' });
    expect((await ok('GET', `/v1/sellers/${seller.id}`)).daily_cap).toBeNull();
    // Still not deletable: its DID and campaign keep naming it.
    expect((await call(staff, 'DELETE', `/v1/sellers/${seller.id}`)).statusCode).toBe(409);

    const back = await ok('POST', `/v1/sellers/${seller.id}/restore`);
    expect(back.archived_at).toBeNull();
    await refused('POST', `/v1/sellers/${seller.id}/restore`, undefined, 'NOT_ARCHIVED');
    expect(
      (await call(staff, 'POST', '/v1/sellers/00000000-0000-4000-8000-000000000000/restore')).statusCode,
    ).toBe(404);
    // Restored: it routes again; the key stays revoked.
    expect((await callOnce(did.number, 3)).disposition).toBe('answered');
    expect((await call(key.key, 'GET', '/v1/campaigns')).statusCode).toBe(401);

    // Both moves are in the audit trail with who made them.
    const log = (await ok('GET', `/v1/audit?resource=seller&resource_id=${seller.id}`)).items as Array<{
      action: string;
      actor: { label: string };
      before: { archived_at: string | null };
      after: { archived_at: string | null };
    }>;
    const moves = log.filter((e) => e.action === 'update');
    expect(moves).toHaveLength(2);
    expect(moves[0]).toMatchObject({ actor: { label: 'ops' }, after: { archived_at: null } });
    expect(moves[1]!.before.archived_at).toBeNull();
    expect(moves[1]!.after.archived_at).not.toBeNull();
  });

  it('a DID switched off ends its calls did_inactive, filters apart, and takes calls again when on', async () => {
    const { did } = await setup('beta', '+14155550102');
    const off = await ok('PATCH', `/v1/dids/${did.id}`, { active: false });
    expect(off.active).toBe(false);
    expect((await callOnce(did.number, 1)).disposition).toBe('did_inactive');
    const numbers = async (q: string) =>
      ((await ok('GET', `/v1/dids?${q}`)).items as Array<{ number: string }>).map((x) => x.number);
    expect(await numbers('active=false')).toEqual([did.number]);
    expect(await numbers('active=true')).not.toContain(did.number);
    expect((await call(staff, 'GET', '/v1/dids?active=maybe')).statusCode).toBe(400);
    await ok('PATCH', `/v1/dids/${did.id}`, { active: true });
    expect((await callOnce(did.number, 2)).disposition).toBe('answered');
  });

  it("a seller switched off (active false) ends its DIDs' calls seller_inactive, and routes again when on", async () => {
    const { seller, did } = await setup('delta', '+14155550104');
    expect((await callOnce(did.number, 1)).disposition).toBe('answered');
    await ok('PATCH', `/v1/sellers/${seller.id}`, { active: false });
    const off = await callOnce(did.number, 2);
    expect(off).toMatchObject({ disposition: 'seller_inactive', seller_id: seller.id });
    await ok('PATCH', `/v1/sellers/${seller.id}`, { active: true });
    expect((await callOnce(did.number, 3)).disposition).toBe('answered');
  });

  it('a key made while its seller is archived is either refused or revoked by the archive', async () => {
    const s = await ok('POST', '/v1/sellers', { name: 'gamma' }, 201);
    // The archive and key creations race; whatever order they land in, no live key is left.
    const made = Promise.allSettled(
      Array.from({ length: 8 }, () => createApiKey(d.ctx.database.db, { role: 'seller', sellerId: s.id })),
    );
    const archived = ok('POST', `/v1/sellers/${s.id}/archive`);
    const [keys] = await Promise.all([made, archived]);
    for (const k of keys)
      if (k.status === 'rejected') expect(k.reason).toMatchObject({ code: 'SELLER_ARCHIVED' });
    const [live] = await d.ctx.database.sql`
      select count(*)::int as n from api_keys where seller_id = ${s.id} and revoked_at is null`;
    expect(live!.n).toBe(0);
  });
});
