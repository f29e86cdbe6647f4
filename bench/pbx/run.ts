// PBX provisioning benchmark: PBX user creations with many in flight (all racing for the lowest
// free extension), then one apply over AMI against the simulator checking every endpoint. Prints
// creations/s and apply time per endpoint.
//   npx tsx bench/pbx/run.ts [--users 300] [--concurrency 50]
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); uses a database of its own.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createAsteriskModule } from '../../src/asterisk/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import { parseConfig } from '../../src/config.ts';
import { runMigrations } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startDaemon } from '../../src/main.ts';
import { createPbxModule } from '../../src/pbx/index.ts';
import { asteriskEnv, startSimulator } from '../../src/simulator/index.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: { users: { type: 'string', default: '300' }, concurrency: { type: 'string', default: '50' } },
});
const users = Number(values.users);
const concurrency = Number(values.concurrency);
const base = process.env.DATABASE_URL;
if (!base || !process.env.REDIS_URL) throw new Error('set DATABASE_URL and REDIS_URL');

const dbName = `bench_pbx_${randomBytes(4).toString('hex')}`;
const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = withDb(base, dbName);
await runMigrations(url);

const sim = await startSimulator({ ariPort: 0, amiPort: 0, databaseUrl: url });
const config = parseConfig({
  ...process.env,
  DATABASE_URL: url,
  MASTER_KEY: '11'.repeat(32),
  LOG_LEVEL: 'warn',
  REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}`,
  PBX_EXTENSION_MIN: '1000',
  PBX_EXTENSION_MAX: String(1000 + users + 100),
  ...asteriskEnv(sim),
});
const d = await startDaemon(
  config,
  createLogger({ level: 'warn' }),
  [createAsteriskModule, createPbxModule],
  {
    listen: false,
  },
);
const key = (await createApiKey(d.ctx.database.db, { role: 'staff' })).key;
const post = (url: string, payload: object) =>
  d.app.inject({ method: 'POST', url, payload, headers: { 'x-api-key': key } });
for (let i = 0; i < 200; i++) {
  if ((await d.app.inject('/ready')).statusCode === 200) break;
  await new Promise((r) => setTimeout(r, 50));
}

let next = 0;
let failed = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    for (let i = next++; i < users; i = next++) {
      const r = await post('/v1/pbx/users', { name: `Bench ${i}`, email: `bench${i}@example.com` });
      if (r.statusCode !== 201) failed++;
    }
  }),
);
const createMs = performance.now() - t0;
const [row] = await d.ctx.database.sql<
  { n: number }[]
>`select count(distinct extension)::int as n from pbx_users`;
const distinct = row?.n ?? 0;

const t1 = performance.now();
const apply = await post('/v1/pbx/apply', { triggered_by: 'bench' });
const applyMs = performance.now() - t1;
const rep = apply.json() as { ok: boolean; endpoints: number };

const pbx = d.ctx.modules.get('pbx') as import('../../src/pbx/index.ts').PbxModule;
console.log(
  `users created:        ${users - failed}/${users} (${distinct} distinct extensions), ${concurrency} in flight, ${pbx.service.users.retries} extension races retried`,
);
console.log(
  `creation rate:        ${((users / createMs) * 1000).toFixed(0)} users/s (${(createMs / users).toFixed(1)} ms each on average)`,
);
console.log(
  `apply:                ${rep.endpoints} endpoints, ok=${rep.ok}, ${applyMs.toFixed(0)} ms (${(applyMs / Math.max(1, rep.endpoints)).toFixed(2)} ms/endpoint)`,
);

await d.stop();
await sim.stop();
await admin.unsafe(`drop database if exists ${dbName} with (force)`);
await admin.end();
