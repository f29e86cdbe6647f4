// The audit trail of routing resources: who changed what, with the row before and after. The rows are
// written by PostgreSQL triggers (see docs/audit.md), so every change is recorded in its own
// transaction whatever made it (API, console, provisioning, a script); this file says *who*. The
// actor is passed explicitly, from the request that makes the change (`req.actor`, named by the
// API-key check or the console's session check) down to the service: an ambient async context would
// do the same with no arguments, but on Node 20 it enables promise hooks for the whole process once
// any request enters it, and every promise of every call then pays for them. `audited` opens a
// transaction and hands the actor to the triggers with a transaction-local setting
// (`capconduit.actor`). Without an actor the triggers record `system`.
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Actor {
  type: 'api_key' | 'console_user' | 'system';
  id: string | null;
  label: string | null;
}

/** Runs `fn` in a transaction whose audited changes are recorded as made by `actor` (null: system). */
export function audited<T>(db: Db, fn: (tx: Tx) => Promise<T>, actor: Actor | null = null): Promise<T> {
  return db.transaction(async (tx) => {
    if (actor) await tx.execute(sql`select set_config('capconduit.actor', ${JSON.stringify(actor)}, true)`);
    return fn(tx);
  });
}
