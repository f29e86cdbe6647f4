// DID provisioning benchmark: one batch job of N numbers against the fake Vonage with the provider
// account's rate limit set. Prints the carrier requests' achieved rate against the limit (overall and
// the busiest sliding second, which must never exceed it), the time to the last item, and the items'
// latency (from the job's creation to each item's answer, and each item's own run time).
//   npx tsx bench/provisioning/run.ts [--numbers 1000] [--rate 50] [--concurrency 8]
// Needs DATABASE_URL/REDIS_URL (eval "$(bash scripts/services.sh env)"); uses a database of its own.
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import postgres from 'postgres';
import { createApiKey } from '../../src/auth/keys.ts';
import { parseConfig } from '../../src/config.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { startDaemon } from '../../src/main.ts';
import { runMigrations } from '../../src/platform/db.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createProvisioningModule } from '../../src/provisioning/index.ts';
import { FakeCarrier } from '../../src/provisioning/providers/fake/server.ts';
import { withDb } from '../common.ts';

const { values } = parseArgs({
  options: {
    numbers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '8' },
  },
});
const numbers = Number(values.numbers);
const rate = Number(values.rate);
const base = process.env.DATABASE_URL;
if (!base || !process.env.REDIS_URL) throw new Error('set DATABASE_URL and REDIS_URL');

const dbName = `bench_prov_${randomBytes(4).toString('hex')}`;
const admin = postgres(withDb(base, 'postgres'), { max: 1, onnotice: () => {} });
await admin.unsafe(`create database ${dbName}`);
const url = withDb(base, dbName);
await runMigrations(url);

const PER_NPA = 20;
const fake = new FakeCarrier({ apiKey: 'benchkey', apiSecret: 'bench-secret', inventoryPerNpa: PER_NPA });
await fake.listen();
const d = await startDaemon(
  parseConfig({
    ...process.env,
    DATABASE_URL: url,
    MASTER_KEY: '22'.repeat(32),
    LOG_LEVEL: 'warn',
    REDIS_KEY_PREFIX: `bench${randomBytes(3).toString('hex')}`,
  }),
  createLogger({ level: 'warn' }),
  [(ctx) => createProvisioningModule(ctx)],
  { listen: false },
);
const key = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
const api = (method: string, u: string, payload?: object) =>
  d.app.inject({
    method: method as 'GET',
    url: u,
    headers: { 'x-api-key': key },
    ...(payload ? { payload } : {}),
  });
const [seller] = await d.ctx.database.db.insert(sellers).values({ name: 'bench' }).returning();
const acc = await api('POST', '/v1/provider-accounts', {
  name: 'bench',
  provider: 'vonage',
  rest_url: fake.url,
  api_url: fake.url,
  api_key: 'benchkey',
  api_secret: 'bench-secret',
  rate_per_s: rate,
  concurrency: Number(values.concurrency),
  voice: { type: 'sip', value: 'sip:{e164}@198.51.100.7' },
});
const npas = Math.ceil(numbers / PER_NPA);
const items = Array.from({ length: npas }, (_, i) => ({
  npa: String(200 + i),
  count: Math.min(PER_NPA, numbers - i * PER_NPA),
}));
const t0 = Date.now();
const r = await api('POST', '/v1/numbers/provision/batch', {
  provider_account_id: acc.json().id,
  seller_id: seller!.id,
  items,
});
const jobId = r.json().job_id as string;
for (;;) {
  const j = (await api('GET', `/v1/jobs/${jobId}?items=false`)).json();
  if (j.status === 'completed') break;
  await new Promise((res) => setTimeout(res, 250));
}
const job = (await api('GET', `/v1/jobs/${jobId}`)).json() as {
  counts: Record<string, number>;
  created_at: string;
  items: Array<{ latency_ms: number | null }>;
};
const rows = await d.ctx.database.sql<{ ms: number }[]>`
  select extract(epoch from (i.finished_at - j.created_at)) * 1000 as ms
  from provisioning_job_items i join provisioning_jobs j on j.id = i.job_id where j.id = ${jobId} order by 1`;
const sinceJob = rows.map((x) => Number(x.ms));
const own = job.items.map((i) => i.latency_ms ?? 0).sort((a, b) => a - b);
const q = (a: number[], p: number) => a[Math.min(a.length - 1, Math.floor(p * a.length))]!.toFixed(0);

const reqs = fake.stats.requests
  .filter((x) => x.key === 'benchkey')
  .map((x) => x.at)
  .sort((a, b) => a - b);
let busiest = 0;
for (let i = 0, j = 0; i < reqs.length; i++) {
  while (reqs[i]! - reqs[j]! >= 1000) j++;
  busiest = Math.max(busiest, i - j + 1);
}
const span = (reqs.at(-1)! - reqs[0]!) / 1000;
const achieved = (reqs.length - 1) / span;
const bought = fake.stats.buys.length;
console.log(
  `numbers ${numbers}, rate limit ${rate}/s, concurrency ${values.concurrency}: ${JSON.stringify(job.counts)}`,
);
console.log(
  `carrier requests ${reqs.length} in ${span.toFixed(1)} s: achieved ${achieved.toFixed(2)}/s = ${(achieved / rate).toFixed(3)} of the limit; busiest second ${busiest} (limit ${rate})`,
);
console.log(
  `time to last item ${((Date.now() - t0) / 1000).toFixed(1)} s; purchases ${bought} (distinct ${new Set(fake.stats.buys.map((b) => b.msisdn)).size})`,
);
console.log(
  `item answered after job start ms: p50 ${q(sinceJob, 0.5)} p90 ${q(sinceJob, 0.9)} p99 ${q(sinceJob, 0.99)} max ${q(sinceJob, 1)}`,
);
console.log(
  `item own run time ms (incl. waiting for its turns): p50 ${q(own, 0.5)} p90 ${q(own, 0.9)} p99 ${q(own, 0.99)} max ${q(own, 1)}`,
);
await d.stop();
await fake.close();
await admin.unsafe(`drop database ${dbName} with (force)`);
await admin.end();
