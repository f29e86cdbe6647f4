// The operator's commands as child processes: --help of every command runs nothing, keys
// list/revoke, status in words, a test call through the simulator to its CDR, and a port in use as
// one line. Plus the registry's shape: no command imports it.
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { COMMAND_NAMES, main } from '../../src/cli/index.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase, TEST_MASTER_KEY, testConfig } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';
import { simEnv } from '../helpers/sim-env.ts';
import { waitFor } from '../helpers/wait.ts';

const exec = promisify(execFile);
const BIN = 'bin/capconduit.js';
type Ran = { code: number; stdout: string; stderr: string };
/** Runs the CLI with exactly this environment (no .env of the worktree: cwd is the repo, so none is set). */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  try {
    const r = await exec('node', [BIN, ...args], {
      env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? '/tmp', ...env },
      timeout: 60_000,
    });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('capconduit commands', { timeout: 120_000 }, () => {
  it('every command answers --help with its usage and runs nothing (start included)', async () => {
    expect(COMMAND_NAMES).toEqual(expect.arrayContaining(['start', 'status', 'keys', 'call', 'import-cids']));
    // In this process, through the registry: a command that ran instead would start servers, wait for
    // Asterisk or fail on the missing configuration, not answer 0 with its usage.
    const written: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((s) => {
      written.push(String(s));
      return true;
    });
    try {
      for (const name of COMMAND_NAMES) {
        written.length = 0;
        expect(await main([name, '--help']), name).toBe(0);
        expect(written.join('')).toMatch(new RegExp(`^usage: capconduit ${name}\\b`));
      }
    } finally {
      spy.mockRestore();
    }
    // And the executable itself, with no configuration at all.
    const r = await cli(['start', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: capconduit start\n/);
  });

  it('no command imports the registry (no import cycle); usage errors point at --help', async () => {
    for (const f of readdirSync('src/cli')) {
      if (f === 'index.ts' || f === 'entry.ts') continue;
      expect(readFileSync(`src/cli/${f}`, 'utf8'), f).not.toMatch(/from '\.\/index\.ts'/);
    }
    const r = await cli(['keys', 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'capconduit keys: unknown subcommand "frobnicate": list or revoke (capconduit keys --help)\n',
    );
  });

  it('scripts/run.sh stops when the services script fails, before running anything', async () => {
    const r = await exec('bash', ['scripts/run.sh', 'migrate'], {
      env: {
        PATH: process.env.PATH!,
        HOME: process.env.HOME ?? '/tmp',
        DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
        REDIS_URL: 'redis://127.0.0.1:1',
      },
    }).then(
      (x) => ({ code: 0, ...x }),
      (e: Ran) => e,
    );
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('DATABASE_URL at postgres://x@127.0.0.1:1/x is not reachable');
    expect(r.stderr).toContain('run.sh: PostgreSQL/Redis not available');
    expect(r.stdout + r.stderr).not.toMatch(/migration|up to date|ECONNREFUSED/);
  });

  it('a port in use is one line naming the port and its flag', async () => {
    const held: Server = createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    const port = (held.address() as { port: number }).port;
    try {
      const r = await cli(['simulate', '--ari-port', String(port), '--ami-port', '0']);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `capconduit simulate: port ${port} is already in use: choose another with --ari-port\n`,
      );
      const s = await cli(['start'], {
        DATABASE_URL: 'postgres://x@127.0.0.1:1/x',
        REDIS_URL: 'redis://127.0.0.1:1',
        MASTER_KEY: TEST_MASTER_KEY,
        API_PORT: String(port),
      });
      expect(s.code).toBe(1);
      expect(s.stderr).toBe(
        `capconduit start: port ${port} is already in use: choose another with API_PORT\n`,
      );
    } finally {
      held.close();
    }
  });
});

describe('capconduit keys, status and call against a daemon and the simulator', { timeout: 120_000 }, () => {
  const { log } = capturingLogger('warn');
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sim: Simulator;
  let d: Daemon;
  let admin: string;

  beforeAll(async () => {
    db = await freshDatabase();
    sim = await startSimulator({ ariPort: 0, amiPort: 0, endpoints: { 'cc-one': { answerAfterMs: 50 } } });
    const config = testConfig({ DATABASE_URL: db.url, API_PORT: '0', ...simEnv(sim) });
    d = await startDaemon(config, log, [createAsteriskModule, createRoutingModule]);
    admin = (await createApiKey(d.ctx.database.db, { role: 'admin', label: 'cli test' })).key;
    const api = async (url: string, payload: object) => {
      const r = await d.app.inject({
        method: 'POST',
        url,
        headers: { authorization: `Bearer ${admin}` },
        payload,
      });
      expect(r.statusCode, r.body).toBe(201);
      return r.json() as { id: string };
    };
    const seller = await api('/v1/sellers', { name: 'cli seller' });
    const client = await api('/v1/clients', { name: 'cc one', endpoint: 'cc-one' });
    const camp = await api('/v1/campaigns', { seller_id: seller.id, name: 'cli campaign' });
    await api(`/v1/campaigns/${camp.id}/links`, { client_id: client.id });
    await api('/v1/dids', { number: '+14155550142', seller_id: seller.id, campaign_id: camp.id });
  });
  afterAll(async () => {
    await d?.stop();
    await sim?.stop();
    await db?.drop();
  });

  it('keys list shows a key by prefix; keys revoke stops it at once on this instance', async () => {
    const prefix = admin.slice(0, 11);
    const listed = await cli(['keys', 'list'], { DATABASE_URL: db.url });
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(prefix);
    expect(listed.stdout).not.toContain(admin); // only the prefix, never the key
    const other = await createApiKey(d.ctx.database.db, { role: 'staff' });
    const revoked = await cli(['keys', 'revoke', other.key], { DATABASE_URL: db.url });
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`revoked key ${other.id}`);
    expect(revoked.stdout).not.toContain(other.key);
    const after = await cli(['keys', 'list'], { DATABASE_URL: db.url });
    expect(after.stdout).not.toContain(other.key.slice(0, 11));
    expect((await cli(['keys', 'list', '--all'], { DATABASE_URL: db.url })).stdout).toContain(
      other.key.slice(0, 11),
    );
    expect((await cli(['keys', 'revoke', other.id], { DATABASE_URL: db.url })).stdout).toContain(
      'already revoked',
    );
  });

  it('import-cids runs without MASTER_KEY (it guards carrier credentials, not caller IDs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cids-'));
    const file = join(dir, 'cids.csv');
    writeFileSync(file, 'caller_id,carrier\n+12125550170,acme\n+12125550171,acme\n');
    const r = await cli(['import-cids', file, '--campaign', 'CLI01', '--json'], {
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL!,
      REDIS_KEY_PREFIX: `clitest${process.pid}`,
    });
    rmSync(dir, { recursive: true });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ lines: 2, imported: 2, rejected_total: 0 });
  });

  it('status says each part of /ready in words', async () => {
    const r = await cli(['status', '--url', d.address]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`daemon at ${d.address}: ready`);
    expect(r.stdout).toMatch(/PostgreSQL\s+ready/);
    expect(r.stdout).toMatch(/Asterisk node asterisk-1 \(ARI and AMI links\)\s+ready/);
    const held: Server = createServer();
    await new Promise<void>((res) => held.listen(0, '127.0.0.1', res));
    const port = (held.address() as { port: number }).port;
    await new Promise<void>((res) => held.close(() => res()));
    const none = await cli(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no daemon answers at http://127.0.0.1:${port}`);
  });

  it('call places an inbound call through the dialplan, says it was answered, and its CDR is there', async () => {
    const r = await cli(
      ['call', '--did', '+14155550142', '--from', '+12125550111', '--talk', '1'],
      simEnv(sim),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('answered (a call centre took it');
    expect(r.stdout).toContain('the call was answered and ended');
    const cdr = async () =>
      (
        await d.app.inject({
          url: '/v1/calls?did=%2B14155550142',
          headers: { authorization: `Bearer ${admin}` },
        })
      ).json() as { items: Array<{ caller_number: string; disposition: string }> };
    // The CLI saw the caller hang up; the daemon writes the CDR once it has finished the call (the
    // bridge taken down first), which may come a moment later: waited for, flushing each time.
    const flush = () =>
      (d.ctx.modules.get('routing') as unknown as { cdr: { flush(): Promise<void> } }).cdr.flush();
    const items = await waitFor(async () => {
      await flush();
      const x = (await cdr()).items;
      return x.length ? x : undefined;
    });
    expect(items).toEqual([
      expect.objectContaining({ caller_number: '+12125550111', disposition: 'answered' }),
    ]);
    const unknown = await cli(['call', '--did', '+14155550143', '--talk', '1'], simEnv(sim));
    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toContain('the call was not answered');
  });
});
