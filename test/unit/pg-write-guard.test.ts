// The daemon survives postgres.js writing on a connection PostgreSQL already dropped (thrown from a
// timer, where no caller can catch it): that one exception is logged and counted; any other uncaught
// exception still ends the process with status 1.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { isPostgresDeadSocketWrite } from '../../src/platform/pg-write-guard.ts';

/** The error as postgres.js 3.4 throws it from its write timer. */
const STACK = `TypeError: Cannot read properties of null (reading 'write')
    at Immediate.nextWrite (/app/node_modules/postgres/src/connection.js:255:22)
    at process.processImmediate (node:internal/timers:483:21)`;

function child(throwWhat: 'postgres' | 'other') {
  const code = `
    import { Registry } from 'prom-client';
    import { createLogger } from './src/platform/logger.ts';
    import { guardPostgresDeadSocketWrites } from './src/platform/pg-write-guard.ts';
    const metrics = new Registry();
    guardPostgresDeadSocketWrites(createLogger({ level: 'silent' }), metrics);
    const e = new TypeError(${JSON.stringify("Cannot read properties of null (reading 'write')")});
    e.stack = ${JSON.stringify(STACK)};
    setImmediate(() => { throw ${throwWhat === 'postgres' ? 'e' : "new Error('boom')"}; });
    setTimeout(async () => {
      const m = await metrics.getSingleMetricAsString('capconduit_postgres_dead_socket_writes_total');
      console.log('alive', m.split('\\n').at(-1));
    }, 50);
  `;
  return spawnSync('node', ['--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('the guard against postgres.js writing on a dead connection', () => {
  it('recognises that error and nothing else', () => {
    const e = new TypeError("Cannot read properties of null (reading 'write')");
    e.stack = STACK;
    expect(isPostgresDeadSocketWrite(e)).toBe(true);
    const cjs = new TypeError(e.message);
    cjs.stack = STACK.replace('postgres/src', 'postgres/cjs/src');
    expect(isPostgresDeadSocketWrite(cjs)).toBe(true);
    const elsewhere = new TypeError(e.message);
    elsewhere.stack = STACK.replace('postgres/src/connection.js', 'ioredis/built/Redis.js');
    expect(isPostgresDeadSocketWrite(elsewhere)).toBe(false);
    expect(isPostgresDeadSocketWrite(new Error(e.message))).toBe(false);
  });

  it('keeps the process running through it, counted', () => {
    const r = child('postgres');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('alive capconduit_postgres_dead_socket_writes_total 1');
  });

  it('still ends the process on any other uncaught exception', () => {
    const r = child('other');
    expect(r.status).toBe(1);
    expect(r.stdout).not.toContain('alive');
  });
});
