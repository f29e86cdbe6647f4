// Live floor benchmark: 2,000 calls in progress on 100 links, pushed to 20 open consoles. Prints the
// server's CPU per second while pushing, the bytes of one update, and the time a headless Chromium
// takes to apply one update to the page.
//   npx tsx bench/console-live/run.ts [--calls 2000] [--links 100] [--consoles 20] [--seconds 20]
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)") and /usr/bin/chromium; uses a
// database of its own. The calls are one fake instance's snapshot published on the live channel (what
// a routing instance publishes), so the figures are the console's alone, not the router's.
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import postgres from 'postgres';
import { parseConfig } from '../../src/config.ts';
import { type ConsoleModule, createConsoleModule } from '../../src/console/index.ts';
import type { InstanceSnapshot } from '../../src/console/live.ts';
import { campaigns, clients, links, sellers } from '../../src/db/schema/routing.ts';
import { startDaemon } from '../../src/main.ts';
import { runMigrations } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../test/helpers/chromium.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '2000' },
    links: { type: 'string', default: '100' },
    consoles: { type: 'string', default: '20' },
    seconds: { type: 'string', default: '20' },
  },
});
const nCalls = Number(values.calls);
const nLinks = Number(values.links);
const nConsoles = Number(values.consoles);
const seconds = Number(values.seconds);
const base = process.env.DATABASE_URL;
if (!base || !process.env.REDIS_URL) throw new Error('set DATABASE_URL and REDIS_URL');

const dbName = `bench_console_${randomBytes(4).toString('hex')}`;
const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = withDb(base, dbName);
await runMigrations(url);
const config = parseConfig({
  ...process.env,
  DATABASE_URL: url,
  MASTER_KEY: '11'.repeat(32),
  LOG_LEVEL: 'warn',
  API_PORT: '0',
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}`,
});
const d = await startDaemon(config, createLogger({ level: 'warn' }), [
  createRoutingModule,
  createConsoleModule,
]);
const con = d.ctx.modules.get('console') as ConsoleModule;
const db = d.ctx.database.db;

// 100 links: 10 campaigns of one seller, each linked to 10 clients.
const [seller] = await db.insert(sellers).values({ name: 'bench-seller' }).returning();
const linkRows: Array<{ clientId: string }> = [];
for (let c = 0; c < Math.ceil(nLinks / 10); c++) {
  const [camp] = await db
    .insert(campaigns)
    .values({ sellerId: seller!.id, name: `camp-${c}` })
    .returning();
  for (let i = 0; i < 10 && linkRows.length < nLinks; i++) {
    const [cl] = await db
      .insert(clients)
      .values({ name: `client-${c}-${i}`, endpoint: `client-${c}-${i}` })
      .returning();
    await db.insert(links).values({
      campaignId: camp!.id,
      clientId: cl!.id,
      concurrencyCap: 50,
      hourlyCap: 1000,
      dailyCap: 5000,
    });
    linkRows.push({ clientId: cl!.id });
  }
}
const started = Date.now();
const snapshot = (): InstanceSnapshot => ({
  instance: 'bench-instance',
  at: Date.now(),
  calls: Array.from({ length: nCalls }, (_, i) => ({
    call_id: randomUUID(),
    node_id: 'asterisk-1',
    did: `+1415555${String(i % 10000).padStart(4, '0')}`,
    caller: `+1212555${String(i % 10000).padStart(4, '0')}`,
    phase: i % 5 ? 'bridged' : 'dialing',
    started_at: new Date(started - (i % 300) * 1000).toISOString(),
    client_id: linkRows[i % linkRows.length]!.clientId,
    seller_id: seller!.id,
  })),
  nodes: [],
  routed: 0,
  answered: 0,
});
// As a routing instance would: a fresh snapshot twice a second.
const publishing = setInterval(
  () => void d.ctx.redis.publish(con.hub.channel, JSON.stringify(snapshot())),
  500,
);

// A signed-in session for the consoles.
const password = randomBytes(12).toString('base64url');
await con.services.users.create({ email: 'bench@example.com', password, role: 'viewer' });
const addr = new URL(d.address);
const r = await d.app.inject({
  method: 'POST',
  url: '/console/sign-in',
  headers: { 'content-type': 'application/x-www-form-urlencoded', host: addr.host, origin: addr.origin },
  payload: new URLSearchParams({ email: 'bench@example.com', password }).toString(),
});
const cookie = [r.headers['set-cookie']]
  .flat()
  .find((c) => c?.startsWith('cc_session='))!
  .split(';')[0]!;

// The consoles read in a process of their own, so their CPU is not the server's.
const readers = spawn(
  process.execPath,
  [
    '-e',
    `let bytes = 0; const n = ${nConsoles};
     for (let i = 0; i < n; i++) fetch(${JSON.stringify(`${d.address}/console/live/events`)}, { headers: { cookie: ${JSON.stringify(cookie)} } })
       .then(async (res) => { for await (const c of res.body) bytes += c.length; }).catch(() => {});
     process.stdin.on('end', () => { console.log(bytes); process.exit(0); }); process.stdin.resume();`,
  ],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const readersDone = new Promise((res) => readers.on('exit', res));
let readerOut = '';
readers.stdout.on('data', (b) => (readerOut += b));
const waitFrames = async (n: number) => {
  while (con.hub.stats.frames < n) await new Promise((res) => setTimeout(res, 100));
};
await waitFrames(nConsoles * 2);
// Every console connected and served twice: the measure starts.
const s0 = { ...con.hub.stats };
const cpu0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
await new Promise((res) => setTimeout(res, seconds * 1000));
const cpu = process.cpuUsage(cpu0);
const wall = Number(process.hrtime.bigint() - t0) / 1e9;
const frames = con.hub.stats.frames - s0.frames;
const bytes = con.hub.stats.bytes - s0.bytes;
const builds = con.hub.stats.builds - s0.builds;
readers.stdin.end(); // the readers print what they read and leave
await readersDone;

// The browser: the live page with the same frames, the time console.js takes to apply each.
const profile = mkdtempSync(join(tmpdir(), 'cc-bench-chromium-'));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: CHROMIUM_FLAGS,
  viewport: { width: 1280, height: 800 },
});
const page = browser.pages()[0] ?? (await browser.newPage());
await browser.addCookies([{ name: 'cc_session', value: cookie.split('=')[1]!, url: d.address }]);
await page.goto(`${d.address}/console/live`);
const applies: number[] = [];
let seen = 0;
while (applies.length < 15) {
  const live = page.locator('#live');
  const frames = Number((await live.getAttribute('data-frames')) ?? 0);
  const ms = Number((await live.getAttribute('data-apply-ms')) ?? 0);
  if (frames > seen) {
    if (seen > 0) applies.push(ms);
    seen = frames;
  }
  await new Promise((res) => setTimeout(res, 100));
}
await browser.close();
rmSync(profile, { recursive: true, force: true });

clearInterval(publishing);
await d.stop();
await admin.unsafe(`drop database ${dbName} with (force)`);
await admin.end();

applies.sort((a, b) => a - b);
const perFrame = bytes / frames;
console.log(
  `live floor: ${nCalls} calls, ${nLinks} links, ${nConsoles} consoles, ${wall.toFixed(1)} s measured`,
);
console.log(
  `  updates pushed: ${frames} (${(frames / wall).toFixed(1)}/s; ${builds} frames built, one per scope and tick)`,
);
console.log(
  `  bytes per update: ${Math.round(perFrame)} (${(perFrame / 1024).toFixed(1)} KiB); consoles read ${readerOut.trim()} bytes in all`,
);
console.log(
  `  server CPU: ${(((cpu.user + cpu.system) / 1e6 / wall) * 100).toFixed(1)} % of one core (user+system, whole daemon process)`,
);
console.log(
  `  browser apply time per update: median ${applies[Math.floor(applies.length / 2)]!.toFixed(1)} ms, max ${applies.at(-1)!.toFixed(1)} ms (${applies.length} updates)`,
);
process.exit(0);
