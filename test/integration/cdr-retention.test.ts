// Retention: call records past CDR_RETENTION_DAYS are deleted and caller numbers past
// CALLER_NUMBER_RETENTION_DAYS cleared, in batches, on one instance at a time (the Redis lock).
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CdrRetention } from '../../src/cdr/retention.ts';
import { createDatabase, type Database } from '../../src/platform/db.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { freshDatabase, redisPrefix } from '../helpers/env.ts';
import { capturingLogger } from '../helpers/log.ts';

describe('call record retention', () => {
  let pg: Awaited<ReturnType<typeof freshDatabase>>;
  let database: Database;
  const redis = new Redis(process.env.REDIS_URL!);
  const lockKey = new RedisKeys(redisPrefix()).cdrRetentionLock;
  const { log } = capturingLogger();
  const now = Date.UTC(2026, 5, 1, 12, 0, 0);
  const DAY = 86_400_000;

  beforeAll(async () => {
    pg = await freshDatabase();
    database = createDatabase(pg.url, { max: 2 });
  });
  afterAll(async () => {
    await database?.close();
    await pg?.drop();
    await redis.quit();
  });

  /** `n` records that started `ageDays` days before `now`. */
  const insert = async (prefix: string, ageDays: number, n: number) => {
    const at = new Date(now - ageDays * DAY).toISOString();
    for (let i = 0; i < n; i++)
      await database.sql`insert into call_records
        (call_id, node_id, caller_number, started_at, ended_at, duration_s, billable_s, disposition, attempts)
        values (${`${prefix}-${i}`}, 'n1', '+13105550100', ${at}, ${at}, 1, 0, 'answered', '[]'::jsonb)`;
  };
  const rows = async (prefix: string) =>
    database.sql<{ caller_number: string | null }[]>`
      select caller_number from call_records where call_id like ${`${prefix}-%`}`;

  it('deletes records past the retention, clears caller numbers past theirs, keeps the rest, in batches', async () => {
    await insert('old', 401, 7); // past both
    await insert('mid', 120, 5); // past the caller-number retention only
    await insert('new', 10, 4); // within both
    const job = new CdrRetention(
      database.db,
      redis,
      lockKey,
      { cdrDays: 400, callerNumberDays: 90, batch: 3 },
      log,
    );
    const r = await job.runOnce(now);
    expect(r).toEqual({ deleted: 7, callersCleared: 5, recordingsDeleted: 0 });
    expect(await rows('old')).toHaveLength(0);
    const mid = await rows('mid');
    expect(mid).toHaveLength(5);
    expect(mid.every((x) => x.caller_number === null)).toBe(true);
    const fresh = await rows('new');
    expect(fresh.map((x) => x.caller_number)).toEqual(Array(4).fill('+13105550100'));
    // Nothing left to do: a second run changes nothing.
    expect(await job.runOnce(now)).toEqual({ deleted: 0, callersCleared: 0, recordingsDeleted: 0 });
  });

  it('runs on one instance at a time: while another holds the lock, a run skips and changes nothing', async () => {
    await insert('held', 500, 2);
    const other = new CdrRetention(
      database.db,
      redis,
      lockKey,
      { cdrDays: 400, callerNumberDays: 90, batch: 3 },
      log,
    );
    await redis.set(lockKey, 'another-instance', 'PX', 60_000);
    expect(await other.runOnce(now)).toBeNull();
    expect(await rows('held')).toHaveLength(2);
    await redis.del(lockKey);
    expect(await other.runOnce(now)).toEqual({ deleted: 2, callersCleared: 0, recordingsDeleted: 0 });
    // The lock is given back after a run.
    expect(await redis.exists(lockKey)).toBe(0);
  });

  it('0 days keeps records and numbers forever', async () => {
    await insert('forever', 5_000, 2);
    const keep = new CdrRetention(
      database.db,
      redis,
      lockKey,
      { cdrDays: 0, callerNumberDays: 0, batch: 3 },
      log,
    );
    expect(await keep.runOnce(now)).toEqual({ deleted: 0, callersCleared: 0, recordingsDeleted: 0 });
    expect((await rows('forever')).map((x) => x.caller_number)).toEqual(['+13105550100', '+13105550100']);
  });
});
