// capconduit import-cids <file.csv> [--pool X] (--campaign X, its older name): the same import as POST /v1/caller-ids/import,
// from a file, with a progress bar; the pools' Redis state includes the new numbers afterwards.
import { createReadStream, statSync } from 'node:fs';
import { Transform } from 'node:stream';
import cliProgress from 'cli-progress';
import { CsvHeaderError, importCallerIds, POOL_ID } from '../callerid/import.ts';
import { CallerIdService } from '../callerid/service.ts';
import { CidStore } from '../callerid/store.ts';
import { loadToolConfig } from '../config.ts';
import { createDatabase } from '../platform/db.ts';
import { createLogger } from '../platform/logger.ts';
import { createRedis, waitReady } from '../platform/redis/client.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit import-cids <file.csv> [--campaign <pool>] [--json] [--quiet]

Imports caller IDs from a CSV file into PostgreSQL (DATABASE_URL) and the pools' Redis state
(REDIS_URL), the same import as POST /v1/caller-ids/import. Header row with caller_id and optional
carrier, area_code, state, hourly_limit, daily_limit, campaign (a per-line pool). Importing a file
twice changes nothing. Exit status 3 when some lines were rejected (they are listed), 1 when Redis
does not answer within 5 s.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCli(
    argv,
    {
      pool: { type: 'string' },
      campaign: { type: 'string' }, // the older name of --pool
      json: { type: 'boolean' },
      quiet: { type: 'boolean' },
    },
    true,
  );
  if (values.pool !== undefined && values.campaign !== undefined)
    throw new UsageError('name the pool once: --pool or --campaign (its older name)');
  const pool = values.pool ?? values.campaign;
  const file = positionals[0];
  if (!file || positionals.length > 1)
    throw new UsageError('usage: capconduit import-cids <file.csv> [--pool X]');
  if (pool && !POOL_ID.test(pool)) throw new UsageError('the pool id must be 1-64 letters, digits, _ . -');
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const config = loadToolConfig(); // no MASTER_KEY: caller IDs are not carrier credentials
  const log = createLogger({ level: 'warn' });
  const database = createDatabase(config.DATABASE_URL, { max: 4 });
  const redis = createRedis(config.REDIS_URL);
  try {
    await waitReady(redis, 5000, 'Redis (REDIS_URL)');
  } catch (e) {
    await database.close();
    throw e;
  }
  const service = new CallerIdService({
    sql: database.sql,
    store: new CidStore(redis, new RedisKeys(config.REDIS_KEY_PREFIX)),
    log,
    instanceId: `${config.INSTANCE_ID}-import`,
    timezone: config.CID_TIMEZONE ?? config.DEFAULT_TIMEZONE,
    reservationTtlMs: config.CID_RESERVATION_TTL_S * 1000,
    agentRatePerMin: config.CID_AGENT_RATE_PER_MIN,
    flushEveryMs: 0,
  });
  const bar =
    values.quiet || values.json || !process.stderr.isTTY
      ? null
      : new cliProgress.SingleBar(
          { stream: process.stderr, format: 'import [{bar}] {percentage}% | {lines} lines | {eta}s left' },
          cliProgress.Presets.shades_classic,
        );
  let bytes = 0;
  let lines = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      bytes += chunk.length;
      bar?.update(bytes, { lines });
      cb(null, chunk);
    },
  });
  bar?.start(size, 0, { lines: 0 });
  try {
    const r = await importCallerIds(database.sql, service, createReadStream(file).pipe(counter), {
      defaultPool: pool ?? null,
      onProgress: (n) => {
        lines = n;
        bar?.update(bytes, { lines });
      },
    });
    bar?.update(size, { lines: r.lines });
    bar?.stop();
    if (values.json) process.stdout.write(`${JSON.stringify(r)}\n`);
    else {
      process.stdout.write(
        `${r.imported} caller IDs imported from ${r.lines} lines; ${r.rejected_total} rejected${r.rejected_total > r.rejected.length ? ` (the first ${r.rejected.length} listed)` : ''}${r.pools_created.length ? `; pools created: ${r.pools_created.join(', ')}` : ''}\n`,
      );
      for (const x of r.rejected) process.stdout.write(`  line ${x.line}: ${x.reason}\n`);
    }
    return r.rejected_total ? 3 : 0;
  } catch (e) {
    bar?.stop();
    if (e instanceof CsvHeaderError) throw new UsageError(`${file}: ${e.message}`);
    throw e;
  } finally {
    redis.disconnect();
    await database.close();
  }
}
