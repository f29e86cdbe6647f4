// The backup and restore procedure of docs/operations.md, run: PostgreSQL with pg_dump (custom
// format) restored by pg_restore into an empty database, and Redis with an RDB snapshot taken by
// `redis-cli --rdb` and loaded by a Redis started on it.
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { withDb } from '../global-setup.ts';
import { freshDatabase } from '../helpers/env.ts';
import { redisReady } from '../helpers/redis-server.ts';
import { freePort } from '../helpers/redis-server.ts';

const run = promisify(execFile);
/** PostgreSQL's client tools of the server's major version (Debian keeps them per version). */
async function pgTool(name: string, url: string): Promise<string> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const [{ v }] = (await sql`select current_setting('server_version_num')::int / 10000 as v`) as unknown as [
    { v: number },
  ];
  await sql.end();
  return `/usr/lib/postgresql/${v}/bin/${name}`;
}

describe('backup and restore', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'backup-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('PostgreSQL: pg_dump, then pg_restore into an empty database, gives back the rows and the migrations', async () => {
    const db = await freshDatabase();
    const target = `t_restore_${Math.random().toString(36).slice(2, 10)}`;
    const admin = postgres(withDb(process.env.DATABASE_URL!, 'postgres'), { max: 1, onnotice: () => {} });
    try {
      const src = postgres(db.url, { max: 1, onnotice: () => {} });
      await src`insert into sellers (name) values ('backup seller')`;
      const [{ n: applied }] =
        (await src`select count(*)::int as n from drizzle.__drizzle_migrations`) as unknown as [
          { n: number },
        ];
      await src.end();

      const file = join(dir, 'capconduit.dump');
      await run(await pgTool('pg_dump', db.url), ['--format=custom', `--file=${file}`, db.url]);
      await admin.unsafe(`create database ${target}`);
      const restoredUrl = withDb(process.env.DATABASE_URL!, target);
      await run(await pgTool('pg_restore', db.url), ['--no-owner', `--dbname=${restoredUrl}`, file]);

      const dst = postgres(restoredUrl, { max: 1, onnotice: () => {} });
      expect(await dst`select name from sellers`).toEqual([{ name: 'backup seller' }]);
      const [{ n }] = (await dst`select count(*)::int as n from drizzle.__drizzle_migrations`) as unknown as [
        { n: number },
      ];
      expect(n).toBe(applied);
      await dst.end();
    } finally {
      await admin.unsafe(`drop database if exists ${target} with (force)`);
      await admin.end();
      await db.drop();
    }
  });

  it('Redis: an RDB snapshot from redis-cli --rdb loads into a Redis started on it', async () => {
    const key = `backup-test-${process.pid}-${Date.now()}`;
    const live = new Redis(process.env.REDIS_URL!);
    const port = await freePort();
    const restoreDir = mkdtempSync(join(dir, 'redis-'));
    let server: ReturnType<typeof spawn> | null = null;
    try {
      await live.set(key, 'counts of the current hour');
      await live.hset(`${key}:h`, { a: '1', b: '2' });
      const rdb = join(dir, 'dump.rdb');
      await run('redis-cli', ['-u', process.env.REDIS_URL!, '--rdb', rdb]);
      copyFileSync(rdb, join(restoreDir, 'dump.rdb'));
      const p = spawn(
        'redis-server',
        [
          '--bind',
          '127.0.0.1',
          '--port',
          String(port),
          '--dir',
          restoreDir,
          '--dbfilename',
          'dump.rdb',
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      server = p;
      await redisReady(p);
      const restored = new Redis(port, '127.0.0.1');
      expect(await restored.get(key)).toBe('counts of the current hour');
      expect(await restored.hgetall(`${key}:h`)).toEqual({ a: '1', b: '2' });
      restored.disconnect();
    } finally {
      await live.del(key, `${key}:h`);
      live.disconnect();
      if (server && server.exitCode === null) {
        const s = server;
        await new Promise((r) => {
          s.once('exit', r);
          s.kill('SIGTERM');
        });
      }
    }
  });
});
