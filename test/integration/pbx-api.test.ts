// PJSIP realtime provisioning through the API on real PostgreSQL and Redis: the exact ps_* rows of
// each kind of endpoint, PBX users and their extensions under concurrency, range exhaustion,
// seller scope, validation, the audit trail, apply under a lock shared by two instances (with a
// node that never answers), and secrets that never reach logs or later GETs.
import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

const recorded = JSON.parse(
  readFileSync(new URL('../fixtures/asterisk-ps-columns.json', import.meta.url), 'utf8'),
) as {
  enums: Record<string, string[]>;
  tables: Record<string, { columns: Record<string, string> }>;
};

/** An AMI server that greets and accepts the login, then never answers anything else. */
async function silentAmi(): Promise<{ server: Server; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.write('Asterisk Call Manager/11.0.0\r\n');
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 4);
        const id = /ActionID: (.*)/i.exec(block)?.[1];
        if (/^Action: Login/im.test(block))
          s.write(`Response: Success\r\nActionID: ${id}\r\nMessage: Authentication accepted\r\n\r\n`);
      }
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

describe('PBX provisioning API', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let slow: Awaited<ReturnType<typeof silentAmi>>;
  let d: Daemon;
  let d2: Daemon;
  let staff: string;
  let staffId: string;
  const sellerKey: Record<string, string> = {};
  const seller: Record<string, string> = {};
  const logLines: string[] = [];
  const secrets: string[] = [];

  const call = (dd: Daemon, key: string, method: string, url: string, payload?: unknown) =>
    dd.app.inject({
      method: method as 'GET',
      url,
      headers: { 'x-api-key': key },
      ...(payload !== undefined ? { payload: payload as object } : {}),
    });
  const api = (key: string, method: string, url: string, payload?: unknown) =>
    call(d, key, method, url, payload);
  const sql = () => d.ctx.database.sql;
  /** A row's non-NULL columns (what Asterisk's realtime driver passes to sorcery). */
  const rowOf = async (table: string, where: string, value: string) => {
    const rows = await sql().unsafe(`select * from ${table} where ${where} = $1 order by id`, [value]);
    return rows.map((r) => {
      for (const [k, v] of Object.entries(r)) {
        // Only Asterisk's columns, and enum columns only hold Asterisk's values.
        expect(recorded.tables[table]!.columns).toHaveProperty(k);
        const t = recorded.tables[table]!.columns[k]!;
        if (v !== null && recorded.enums[t]) expect(recorded.enums[t]).toContain(v);
      }
      return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
    });
  };

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0, databaseUrl: db.url });
    slow = await silentAmi();
    const nodes = [
      {
        id: 'sim',
        ariUrl: sim.ariUrl,
        ariUser: 'asterisk',
        ariPassword: 'asterisk',
        amiHost: '127.0.0.1',
        amiPort: sim.amiPort,
        amiUser: 'asterisk',
        amiSecret: 'asterisk',
      },
      {
        id: 'silent',
        ariUrl: 'http://127.0.0.1:9/',
        ariUser: 'asterisk',
        ariPassword: 'asterisk',
        amiHost: '127.0.0.1',
        amiPort: slow.port,
        amiUser: 'asterisk',
        amiSecret: 'asterisk',
      },
    ];
    const prefix = redisPrefix();
    const log = createLogger({
      level: 'trace',
      destination: { write: (s: string) => void logLines.push(s) },
    });
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: prefix,
        ASTERISK_NODES: JSON.stringify(nodes),
        PBX_APPLY_TIMEOUT_MS: '3000',
        LOG_LEVEL: 'trace',
      }),
      log,
      [createAsteriskModule, createRoutingModule, createPbxModule],
      { listen: false },
    );
    // A second instance on the same database and Redis (its own small extension range).
    d2 = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: prefix,
        PBX_EXTENSION_MIN: '3000',
        PBX_EXTENSION_MAX: '3001',
      }),
      log,
      [createPbxModule],
      { listen: false },
    );
    const k = await createApiKey(d.ctx.database.db, { role: 'staff', label: 'ops-staff' });
    staff = k.key;
    staffId = k.id;
    for (const name of ['acme', 'bolt']) {
      const [s] = await d.ctx.database.db.insert(sellers).values({ name }).returning();
      seller[name] = s!.id;
      sellerKey[name] = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: s!.id })).key;
    }
  });
  afterAll(async () => {
    await d2?.stop();
    await d?.stop();
    await sim?.stop();
    for (const s of slow?.sockets ?? []) s.destroy();
    slow?.server.close();
    await db?.drop();
  });

  describe('PBX users', () => {
    it('50 concurrent creations get 50 distinct extensions, the lowest of the range', async () => {
      const rs = await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          api(staff, 'POST', '/v1/pbx/users', { name: `User ${i}`, email: `user${i}@example.com` }),
        ),
      );
      for (const r of rs) expect(r.statusCode, r.body).toBe(201);
      const exts = rs.map((r) => r.json().extension as number).sort((a, b) => a - b);
      expect(exts).toEqual(Array.from({ length: 50 }, (_, i) => 1000 + i));
      for (const r of rs) secrets.push(r.json().credentials.password);
      expect(new Set(secrets).size).toBe(50);
    });

    it('writes endpoint + userpass auth + AOR named after the extension, and nothing else', async () => {
      const r = await api(staff, 'POST', '/v1/pbx/users', { name: 'Ann "A" <x>', email: 'Ann@Example.com' });
      expect(r.statusCode, r.body).toBe(201);
      const u = r.json();
      secrets.push(u.credentials.password);
      expect(u).toMatchObject({ extension: 1050, endpoint: '1050', email: 'ann@example.com' });
      expect(u.credentials).toMatchObject({ username: '1050' });
      expect(u.credentials.password).toMatch(/^[A-Za-z0-9]{24}$/);
      expect(await rowOf('ps_endpoints', 'id', '1050')).toEqual([
        {
          id: '1050',
          transport: 'transport-udp',
          aors: '1050',
          auth: '1050',
          context: 'internal',
          disallow: 'all',
          allow: 'ulaw,alaw',
          direct_media: 'no',
          dtmf_mode: 'rfc4733',
          force_rport: 'yes',
          rewrite_contact: 'yes',
          rtp_symmetric: 'yes',
          callerid: '"Ann A x" <1050>',
        },
      ]);
      expect(await rowOf('ps_auths', 'id', '1050')).toEqual([
        { id: '1050', auth_type: 'userpass', username: '1050', password: u.credentials.password },
      ]);
      expect(await rowOf('ps_aors', 'id', '1050')).toEqual([
        { id: '1050', max_contacts: 1, remove_existing: 'yes', qualify_frequency: 60 },
      ]);
      expect(await rowOf('ps_endpoint_id_ips', 'endpoint', '1050')).toEqual([]);
    });

    it('a duplicate email (any case) is 409 DUPLICATE and changes nothing', async () => {
      const before = await sql()`select count(*)::int as n from ps_endpoints`;
      const r = await api(staff, 'POST', '/v1/pbx/users', { name: 'Again', email: 'ANN@example.com' });
      expect(r.statusCode).toBe(409);
      expect(r.json().error.code).toBe('DUPLICATE');
      expect(await sql()`select count(*)::int as n from ps_endpoints`).toEqual(before);
    });

    it('bad input is 400 and creates nothing', async () => {
      for (const body of [
        { name: 'x' },
        { name: 'x', email: 'not-an-email' },
        { name: '', email: 'a@b.co' },
      ]) {
        const r = await api(staff, 'POST', '/v1/pbx/users', body);
        expect(r.statusCode).toBe(400);
        expect(r.json().error.code).toBe('VALIDATION_FAILED');
      }
    });

    it('DELETE removes the ps_* rows and frees the extension for the next user', async () => {
      const list = (await api(staff, 'GET', '/v1/pbx/users?limit=500')).json();
      expect(list.total).toBe(51);
      const u1003 = list.items.find((u: { extension: number }) => u.extension === 1003);
      // A phone registered meanwhile: its contact goes too.
      await sql()`insert into ps_contacts (id, uri, endpoint) values ('1003;@x1', 'sip:1003@192.0.2.1:5060', '1003')`;
      expect((await api(staff, 'DELETE', `/v1/pbx/users/${u1003.id}`)).statusCode).toBe(204);
      for (const [t, c] of [
        ['ps_endpoints', 'id'],
        ['ps_auths', 'id'],
        ['ps_aors', 'id'],
        ['ps_contacts', 'endpoint'],
      ] as const)
        expect(await rowOf(t, c, '1003')).toEqual([]);
      expect((await api(staff, 'GET', `/v1/pbx/users/${u1003.id}`)).statusCode).toBe(404);
      expect((await api(staff, 'DELETE', `/v1/pbx/users/${u1003.id}`)).statusCode).toBe(404);
      const again = await api(staff, 'POST', '/v1/pbx/users', { name: 'New', email: 'new@example.com' });
      expect(again.json().extension).toBe(1003);
      secrets.push(again.json().credentials.password);
    });

    it('an extension whose name is taken in Asterisk tables (a stale AOR) loses the unique race and is skipped', async () => {
      await sql()`insert into ps_aors (id, contact) values ('1051', 'sip:stale@192.0.2.7')`;
      const pbx = d.ctx.modules.get('pbx') as import('../../src/pbx/index.ts').PbxModule;
      const before = pbx.service.users.retries;
      const r = await api(staff, 'POST', '/v1/pbx/users', { name: 'Skip', email: 'skip@example.com' });
      expect(r.statusCode, r.body).toBe(201);
      secrets.push(r.json().credentials.password);
      expect(r.json().extension).toBe(1052);
      expect(pbx.service.users.retries).toBe(before + 1);
      expect(await rowOf('ps_aors', 'id', '1051')).toEqual([{ id: '1051', contact: 'sip:stale@192.0.2.7' }]);
      expect(await rowOf('ps_endpoints', 'id', '1051')).toEqual([]);
    });

    it('an exhausted range is 409 EXTENSION_RANGE_EXHAUSTED (instance with range 3000-3001)', async () => {
      const mk = (i: number) =>
        call(d2, staff, 'POST', '/v1/pbx/users', { name: `R${i}`, email: `r${i}@example.com` });
      const a = await mk(1);
      const b = await mk(2);
      expect([a.json().extension, b.json().extension]).toEqual([3000, 3001]);
      secrets.push(a.json().credentials.password, b.json().credentials.password);
      const c = await mk(3);
      expect(c.statusCode).toBe(409);
      expect(c.json().error.code).toBe('EXTENSION_RANGE_EXHAUSTED');
      expect(await sql()`select count(*)::int as n from pbx_users where email = 'r3@example.com'`).toEqual([
        { n: 0 },
      ]);
    });

    it('seller keys may not manage users', async () => {
      const r = await api(sellerKey.acme!, 'POST', '/v1/pbx/users', { name: 'S', email: 's@example.com' });
      expect(r.statusCode).toBe(403);
      expect((await api(sellerKey.acme!, 'GET', '/v1/pbx/users')).statusCode).toBe(403);
    });
  });

  describe('client endpoints', () => {
    const client = async (name: string) =>
      (await api(staff, 'POST', '/v1/clients', { name, endpoint: 'placeholder' })).json().id as string;

    it('registration: generated username + strong password returned once, exact rows, routing dials it', async () => {
      const id = await client('Reg Centre');
      const r = await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, {
        kind: 'registration',
        options: { codecs: ['g722', 'ulaw'], dtmf_mode: 'info', max_contacts: 3 },
      });
      expect(r.statusCode, r.body).toBe(201);
      const e = r.json();
      const { username, password } = e.credentials;
      secrets.push(password);
      expect(username).toMatch(/^c[a-z2-9]{11}$/);
      expect(e).toMatchObject({ endpoint: username, kind: 'client_registration', client_id: id, username });
      expect(await rowOf('ps_endpoints', 'id', username)).toEqual([
        {
          id: username,
          transport: 'transport-udp',
          aors: username,
          auth: username,
          context: 'from-client',
          disallow: 'all',
          allow: 'g722,ulaw',
          direct_media: 'no',
          dtmf_mode: 'info',
          force_rport: 'yes',
          rewrite_contact: 'yes',
          rtp_symmetric: 'yes',
        },
      ]);
      expect(await rowOf('ps_auths', 'id', username)).toEqual([
        { id: username, auth_type: 'userpass', username, password },
      ]);
      expect(await rowOf('ps_aors', 'id', username)).toEqual([
        { id: username, max_contacts: 3, remove_existing: 'yes', qualify_frequency: 60 },
      ]);
      expect((await api(staff, 'GET', `/v1/clients/${id}`)).json().endpoint).toBe(username);
      const later = await api(staff, 'GET', `/v1/pbx/clients/${id}/endpoint`);
      expect(later.statusCode).toBe(200);
      expect(later.json()).toMatchObject({ endpoint: username, username });
      expect(later.json()).not.toHaveProperty('credentials');
      expect(later.body).not.toContain(password);
      // One endpoint per client.
      const twice = await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, { kind: 'registration' });
      expect(twice.statusCode).toBe(409);
    });

    it('IP trunk: identify rows for each CIDR, AOR with the static contact, raw options applied', async () => {
      const id = await client('IP Centre');
      const r = await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, {
        kind: 'ip',
        name: 'ipcentre',
        ips: ['203.0.113.10', '198.51.100.0/24'],
        contact: { host: '203.0.113.10', port: 5080 },
        options: { context: 'from-client', direct_media: true },
        raw_options: { language: 'fr', device_state_busy_at: 4, '100rel': 'peer_supported' },
      });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({
        endpoint: 'ipcentre',
        kind: 'client_ip',
        ips: ['203.0.113.10/32', '198.51.100.0/24'],
        contact: 'sip:203.0.113.10:5080',
        credentials: null,
      });
      expect(await rowOf('ps_endpoints', 'id', 'ipcentre')).toEqual([
        {
          id: 'ipcentre',
          transport: 'transport-udp',
          aors: 'ipcentre',
          context: 'from-client',
          disallow: 'all',
          allow: 'ulaw,alaw',
          direct_media: 'yes',
          dtmf_mode: 'rfc4733',
          force_rport: 'yes',
          rewrite_contact: 'yes',
          rtp_symmetric: 'yes',
          identify_by: 'ip',
          language: 'fr',
          device_state_busy_at: 4,
          '100rel': 'peer_supported',
        },
      ]);
      expect(await rowOf('ps_aors', 'id', 'ipcentre')).toEqual([
        { id: 'ipcentre', contact: 'sip:203.0.113.10:5080', max_contacts: 1, qualify_frequency: 60 },
      ]);
      expect(await rowOf('ps_endpoint_id_ips', 'endpoint', 'ipcentre')).toEqual([
        { id: 'ipcentre-ip1', endpoint: 'ipcentre', match: '203.0.113.10/32' },
        { id: 'ipcentre-ip2', endpoint: 'ipcentre', match: '198.51.100.0/24' },
      ]);
      expect(await rowOf('ps_auths', 'id', 'ipcentre')).toEqual([]);
      expect((await api(staff, 'DELETE', `/v1/pbx/clients/${id}/endpoint`)).statusCode).toBe(204);
      for (const [t, c] of [
        ['ps_endpoints', 'id'],
        ['ps_aors', 'id'],
        ['ps_endpoint_id_ips', 'endpoint'],
      ] as const)
        expect(await rowOf(t, c, 'ipcentre')).toEqual([]);
      expect((await api(staff, 'GET', `/v1/pbx/clients/${id}/endpoint`)).statusCode).toBe(404);
    });

    it('PATCH rewrites the rows with new options, keeping name, credentials and registered contacts', async () => {
      const id = await client('Patched Centre');
      const created = (
        await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, { kind: 'registration' })
      ).json();
      const { username, password } = created.credentials;
      secrets.push(password);
      await sql()`insert into ps_contacts (id, uri, endpoint) values (${`${username};@p1`}, 'sip:x@192.0.2.8:5060', ${username})`;
      const r = await api(staff, 'PATCH', `/v1/pbx/clients/${id}/endpoint`, {
        options: { codecs: ['opus', 'ulaw'], max_contacts: 2 },
        raw_options: { language: 'de' },
      });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.body).not.toContain(password);
      expect(r.json().options).toEqual({
        codecs: ['opus', 'ulaw'],
        max_contacts: 2,
        raw_options: { language: 'de' },
      });
      expect(await rowOf('ps_endpoints', 'id', username)).toEqual([
        expect.objectContaining({
          id: username,
          aors: username,
          auth: username,
          allow: 'opus,ulaw',
          language: 'de',
        }),
      ]);
      expect(await rowOf('ps_auths', 'id', username)).toEqual([
        { id: username, auth_type: 'userpass', username, password },
      ]);
      expect((await rowOf('ps_aors', 'id', username))[0]).toMatchObject({ max_contacts: 2 });
      expect(await rowOf('ps_contacts', 'endpoint', username)).toHaveLength(1);
      for (const body of [
        {},
        { ips: ['192.0.2.1'] },
        { contact: { host: 'x.example.com' } },
        { raw_options: { aors: 'x' } },
      ]) {
        const bad = await api(staff, 'PATCH', `/v1/pbx/clients/${id}/endpoint`, body);
        expect(bad.statusCode, JSON.stringify(body)).toBe(400);
        expect(bad.json().error.code).toBe('VALIDATION_FAILED');
      }
      expect((await rowOf('ps_endpoints', 'id', username))[0]).toMatchObject({
        allow: 'opus,ulaw',
        language: 'de',
      });
    });

    it('deleting the client itself removes its endpoint rows from Asterisk tables too', async () => {
      const id = await client('Short-lived Centre');
      const r = await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, { kind: 'registration' });
      const { username, password } = r.json().credentials;
      secrets.push(password);
      expect(await rowOf('ps_endpoints', 'id', username)).toHaveLength(1);
      expect((await api(staff, 'DELETE', `/v1/clients/${id}`)).statusCode).toBe(204);
      for (const t of ['ps_endpoints', 'ps_auths', 'ps_aors'])
        expect(await rowOf(t, 'id', username)).toEqual([]);
      expect(await sql()`select count(*)::int as n from pbx_endpoints where endpoint = ${username}`).toEqual([
        { n: 0 },
      ]);
    });

    it('refuses unknown raw columns, linkage columns, bad values, bad CIDRs and codecs with 400, changing nothing', async () => {
      const id = await client('Bad Input Centre');
      const count = async () =>
        (
          await sql()`select (select count(*) from ps_endpoints)::int as e, (select count(*) from pbx_audit)::int as a`
        )[0];
      const before = await count();
      const ip = { kind: 'ip', ips: ['192.0.2.1'], contact: { host: 'pbx.example.com' } };
      for (const body of [
        { ...ip, raw_options: { no_such_column: 'x' } },
        { ...ip, raw_options: { aors: 'someone-else' } },
        { ...ip, raw_options: { auth: 'someone-else' } },
        { ...ip, raw_options: { id: 'x' } },
        { ...ip, raw_options: { timers: 'sometimes' } },
        { ...ip, ips: ['300.1.1.1'] },
        { ...ip, ips: [] },
        { ...ip, contact: { host: 'bad host!' } },
        { ...ip, options: { codecs: ['mp3'] } },
        { ...ip, options: { nat: 'yes' } },
        { kind: 'registration', password: 'mine' },
        { kind: 'sip' },
      ]) {
        const r = await api(staff, 'POST', `/v1/pbx/clients/${id}/endpoint`, body);
        expect(r.statusCode, JSON.stringify(body)).toBe(400);
        expect(r.json().error.code).toBe('VALIDATION_FAILED');
      }
      expect(await count()).toEqual(before);
      const unknownClient = await api(
        staff,
        'POST',
        '/v1/pbx/clients/00000000-0000-4000-8000-000000000000/endpoint',
        {
          kind: 'registration',
        },
      );
      expect(unknownClient.statusCode).toBe(404);
    });
  });

  describe('seller trunks', () => {
    let acmeTrunk: string;

    it('inbound-only endpoint identified by the seller IPs, landing in from-carrier; no AOR, no auth', async () => {
      const r = await api(staff, 'POST', '/v1/pbx/trunks', {
        seller_id: seller.acme,
        name: 'acme-trunk',
        ips: ['192.0.2.0/28', '2001:db8::1'],
      });
      expect(r.statusCode, r.body).toBe(201);
      acmeTrunk = r.json().id;
      expect(await rowOf('ps_endpoints', 'id', 'acme-trunk')).toEqual([
        {
          id: 'acme-trunk',
          transport: 'transport-udp',
          context: 'from-carrier',
          disallow: 'all',
          allow: 'ulaw,alaw',
          direct_media: 'no',
          dtmf_mode: 'rfc4733',
          force_rport: 'yes',
          rewrite_contact: 'yes',
          rtp_symmetric: 'yes',
          identify_by: 'ip',
        },
      ]);
      expect(await rowOf('ps_endpoint_id_ips', 'endpoint', 'acme-trunk')).toEqual([
        { id: 'acme-trunk-ip1', endpoint: 'acme-trunk', match: '192.0.2.0/28' },
        { id: 'acme-trunk-ip2', endpoint: 'acme-trunk', match: '2001:db8::1/128' },
      ]);
      expect(await rowOf('ps_aors', 'id', 'acme-trunk')).toEqual([]);
      expect(await rowOf('ps_auths', 'id', 'acme-trunk')).toEqual([]);
      const dup = await api(staff, 'POST', '/v1/pbx/trunks', {
        seller_id: seller.acme,
        name: 'acme-trunk',
        ips: ['192.0.2.9'],
      });
      expect(dup.statusCode).toBe(409);
      expect(dup.json().error.code).toBe('DUPLICATE');
    });

    it('seller keys cannot provision (403) and see only their own trunks (another seller: 404)', async () => {
      const post = await api(sellerKey.acme!, 'POST', '/v1/pbx/trunks', {
        seller_id: seller.acme,
        ips: ['192.0.2.5'],
      });
      expect(post.statusCode).toBe(403);
      expect(post.json().error.code).toBe('FORBIDDEN_ROLE');
      expect((await api(sellerKey.acme!, 'DELETE', `/v1/pbx/trunks/${acmeTrunk}`)).statusCode).toBe(403);
      expect((await api(sellerKey.acme!, 'GET', `/v1/pbx/trunks/${acmeTrunk}`)).statusCode).toBe(200);
      expect((await api(sellerKey.bolt!, 'GET', `/v1/pbx/trunks/${acmeTrunk}`)).statusCode).toBe(404);
      expect((await api(sellerKey.bolt!, 'GET', '/v1/pbx/trunks')).json().total).toBe(0);
      // Even asking for another seller's trunks by filter gives only one's own.
      const list = await api(sellerKey.bolt!, 'GET', `/v1/pbx/trunks?seller_id=${seller.acme}`);
      expect(list.json().total).toBe(0);
      expect((await api(sellerKey.acme!, 'GET', '/v1/pbx/trunks')).json().total).toBe(1);
      expect((await api(sellerKey.acme!, 'GET', '/v1/pbx/audit')).statusCode).toBe(403);
      expect((await api(sellerKey.acme!, 'POST', '/v1/pbx/apply', { triggered_by: 'x' })).statusCode).toBe(
        403,
      );
    });
  });

  describe('seller trunk changes', () => {
    it('PATCH replaces the addresses (staff only); a seller key gets 403', async () => {
      const list = (await api(staff, 'GET', `/v1/pbx/trunks?seller_id=${seller.acme}`)).json();
      const t = list.items[0];
      expect(
        (await api(sellerKey.acme!, 'PATCH', `/v1/pbx/trunks/${t.id}`, { ips: ['192.0.2.99'] })).statusCode,
      ).toBe(403);
      const r = await api(staff, 'PATCH', `/v1/pbx/trunks/${t.id}`, { ips: ['198.51.100.7'] });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json().ips).toEqual(['198.51.100.7/32']);
      expect(await rowOf('ps_endpoint_id_ips', 'endpoint', t.endpoint)).toEqual([
        { id: `${t.endpoint}-ip1`, endpoint: t.endpoint, match: '198.51.100.7/32' },
      ]);
      expect((await rowOf('ps_endpoints', 'id', t.endpoint))[0]).toMatchObject({
        context: 'from-carrier',
        identify_by: 'ip',
      });
      const bad = await api(staff, 'PATCH', `/v1/pbx/trunks/${t.id}`, { contact: { host: 'x.example.com' } });
      expect(bad.statusCode).toBe(400);
      expect(
        (
          await api(staff, 'PATCH', '/v1/pbx/trunks/00000000-0000-4000-8000-000000000000', {
            ips: ['192.0.2.1'],
          })
        ).statusCode,
      ).toBe(404);
    });
  });

  describe('apply', () => {
    it('one apply at a time across instances: the second gets 409 APPLY_IN_PROGRESS; a silent node is reported', async () => {
      const asterisk = d.ctx.modules.get('asterisk') as import('../../src/asterisk/index.ts').AsteriskModule;
      await waitFor(() => [...asterisk.nodes.values()].every((n) => n.ami.connected) || undefined);
      const lockKey = `${d.ctx.config.REDIS_KEY_PREFIX}:pbx:apply-lock`;
      const first = api(staff, 'POST', '/v1/pbx/apply', { triggered_by: 'deploy #1' });
      await waitFor(async () => (await d.ctx.redis.exists(lockKey)) === 1);
      // The other instance shares the lock through Redis.
      const second = await call(d2, staff, 'POST', '/v1/pbx/apply', { triggered_by: 'deploy #2' });
      expect(second.statusCode).toBe(409);
      expect(second.json().error.code).toBe('APPLY_IN_PROGRESS');
      const r = await first;
      expect(r.statusCode, r.body).toBe(200);
      const rep = r.json();
      expect(rep.triggered_by).toBe('deploy #1');
      expect(rep.ok).toBe(false);
      const byNode = Object.fromEntries(rep.nodes.map((n: { node: string }) => [n.node, n]));
      expect(byNode.silent).toMatchObject({ reachable: false, endpoints: [] });
      expect(byNode.silent.error).toMatch(/no response/);
      expect(byNode.sim).toMatchObject({ reachable: true, error: null, reload: { ok: true } });
      const eps = await sql()`select endpoint from pbx_endpoints order by endpoint`;
      expect(rep.endpoints).toBe(eps.length);
      expect(byNode.sim.endpoints.map((e: { endpoint: string }) => e.endpoint)).toEqual(
        eps.map((e) => e.endpoint),
      );
      expect(byNode.sim.endpoints.every((e: { visible: boolean }) => e.visible)).toBe(true);
      // The lock is gone; the next apply may run (and sees a row deleted behind its back as invisible).
      expect(await d.ctx.redis.exists(lockKey)).toBe(0);
      await sql()`delete from ps_endpoints where id = '1000'`;
      const again = await call(d2, staff, 'POST', '/v1/pbx/apply', { triggered_by: 'deploy #3' });
      expect(again.statusCode).toBe(200);
      expect(again.json().nodes).toEqual([]); // that instance has no Asterisk nodes configured
      const third = await api(staff, 'POST', '/v1/pbx/apply', { triggered_by: 'deploy #4' });
      const sim4 = third.json().nodes.find((n: { node: string }) => n.node === 'sim');
      expect(sim4.endpoints.find((e: { endpoint: string }) => e.endpoint === '1000')).toEqual({
        endpoint: '1000',
        visible: false,
        reason: 'Unable to retrieve endpoint 1000',
      });
      expect((await api(staff, 'POST', '/v1/pbx/apply', {})).statusCode).toBe(400);
    });
  });

  describe('audit and secrets', () => {
    it('every change and every apply has an audit record: who, what, when, result', async () => {
      const all = (await api(staff, 'GET', '/v1/pbx/audit?limit=500')).json();
      const actions = new Set(all.items.map((a: { action: string }) => a.action));
      for (const a of [
        'user.create',
        'user.delete',
        'client_endpoint.create',
        'client_endpoint.update',
        'client_endpoint.delete',
        'seller_trunk.create',
        'seller_trunk.update',
        'apply',
      ])
        expect(actions).toContain(a);
      for (const a of all.items) {
        expect(a.actor).toEqual({ key_id: staffId, label: 'ops-staff' });
        expect(Date.parse(a.at)).not.toBeNaN();
      }
      const created = (
        await api(staff, 'GET', '/v1/pbx/audit?action=user.create&result=ok&limit=500')
      ).json();
      expect(created.total).toBe(55); // 50 + Ann + the re-created 1003 + 1052 + 3000 + 3001
      const errors = (await api(staff, 'GET', '/v1/pbx/audit?result=error&limit=500')).json();
      const codes = errors.items.map(
        (e: { action: string; detail: { code: string } }) => `${e.action}:${e.detail.code}`,
      );
      expect(codes).toEqual(
        expect.arrayContaining([
          'user.create:DUPLICATE',
          'user.create:EXTENSION_RANGE_EXHAUSTED',
          'apply:APPLY_IN_PROGRESS',
          'client_endpoint.create:CONFLICT',
          'seller_trunk.create:DUPLICATE',
        ]),
      );
      const applies = (await api(staff, 'GET', '/v1/pbx/audit?action=apply&limit=500')).json();
      expect(applies.total).toBe(4);
      const byTarget = (await api(staff, 'GET', '/v1/pbx/audit?target=acme-trunk')).json();
      expect(byTarget.items.map((a: { action: string }) => a.action).sort()).toEqual([
        'seller_trunk.create',
        'seller_trunk.create',
        'seller_trunk.update',
      ]);
      const future = (
        await api(
          staff,
          'GET',
          `/v1/pbx/audit?from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        )
      ).json();
      expect(future.total).toBe(0);
      expect((await api(staff, 'GET', '/v1/pbx/audit?from=yesterday')).statusCode).toBe(400);
    });

    it('a failed write that carried a password logs no query parameters', async () => {
      // Make the auth insert fail after the password was generated (a check new rows cannot pass).
      await sql()`alter table ps_auths add constraint t_short_pw check (length(password) < 8) not valid`;
      try {
        const r = await api(staff, 'POST', '/v1/pbx/users', { name: 'Fails', email: 'fails@example.com' });
        expect(r.statusCode).toBe(500);
        expect(r.json().error.code).toBe('INTERNAL');
      } finally {
        await sql()`alter table ps_auths drop constraint t_short_pw`;
      }
      const logged = logLines.join('');
      expect(logged).toContain('pbx user.create failed (PostgreSQL 23514 t_short_pw)');
      expect(logged).not.toMatch(/params:|Failed query|userpass/);
      const audit = await api(
        staff,
        'GET',
        '/v1/pbx/audit?action=user.create&result=error&target=fails%40example.com',
      );
      expect(audit.json().items[0].detail).toEqual({
        code: 'INTERNAL',
        message: 'internal error',
        pg_code: '23514',
      });
    });

    it('passwords never appear in later GET answers or in the logs', async () => {
      expect(secrets.length).toBeGreaterThan(50);
      const bodies = await Promise.all(
        [
          '/v1/pbx/users?limit=500',
          '/v1/pbx/endpoints?limit=500',
          '/v1/pbx/trunks',
          '/v1/pbx/audit?limit=500',
        ].map(async (u) => (await api(staff, 'GET', u)).body),
      );
      const text = bodies.join('\n') + logLines.join('');
      // The logs did record these requests (so the check below could fail).
      expect(logLines.some((l) => l.includes('/v1/pbx/users'))).toBe(true);
      for (const s of secrets) expect(text).not.toContain(s);
    });
  });
});
