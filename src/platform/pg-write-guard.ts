// postgres.js 3.4 (3.4.10 included) can throw from a timer after a connection died: a write it
// buffered behind setImmediate runs once the socket is gone (`TypeError: Cannot read properties of
// null (reading 'write')` at `nextWrite`, postgres/src/connection.js). It happens when PostgreSQL goes
// away while a transaction is open: the transaction's own promise rejects (CONNECTION_CLOSED, which
// its caller handles), then postgres.js sends ROLLBACK (or COMMIT) on the dead connection. Thrown
// from a timer, no caller can catch it, and Node would exit with every call in progress. Upstream:
// porsager/postgres issues 1154 and 1208 (open; the proposed fix skips or fails that write).
//
// The write it was making is moot — its connection is gone and the queries on it were already
// rejected — so this one exception, recognised by its message and its frame in postgres.js, is
// logged and counted, and the daemon runs on. Every other uncaught exception ends the process as
// Node does (logged, exit status 1): its state can no longer be trusted.
import { Counter, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';

/** Whether `err` is postgres.js writing on a connection whose socket is already gone. */
export function isPostgresDeadSocketWrite(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  // Duck-typed, not `instanceof TypeError`: the test runner hands this check errors serialised from
  // its worker processes (name, message and stack kept, prototype lost).
  const { name, message, stack } = err as { name?: unknown; message?: unknown; stack?: unknown };
  if (name !== 'TypeError' || typeof message !== 'string' || !message.includes("reading 'write'"))
    return false;
  const s = typeof stack === 'string' ? stack : '';
  return /\bnextWrite\b/.test(s) && /[\\/]postgres[\\/](cjs[\\/])?src[\\/]connection\.js/.test(s);
}

/** Installs the guard; answers a function that removes it. */
export function guardPostgresDeadSocketWrites(log: Logger, metrics: Registry): () => void {
  const counter = new Counter({
    name: 'capconduit_postgres_dead_socket_writes_total',
    help: 'Writes postgres.js attempted on a connection already gone (a known driver defect), ignored',
    registers: [metrics],
  });
  const onException = (err: Error) => {
    if (isPostgresDeadSocketWrite(err)) {
      counter.inc();
      log.warn(
        { err: err.message },
        'postgres.js wrote on a dead connection (ignored: its queries were already failed)',
      );
      return;
    }
    log.fatal({ err }, 'uncaught exception: stopping');
    process.exit(1);
  };
  process.on('uncaughtException', onException);
  return () => process.off('uncaughtException', onException);
}
