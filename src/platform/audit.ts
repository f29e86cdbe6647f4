// The audit trail of routing resources: who changed what, with the row before and after. The rows are
// written by PostgreSQL triggers (see docs/audit.md), so every change is recorded in its own
// transaction whatever made it (API, console, provisioning, a script); this file says *who*. Each
// request runs in an async context holding its actor (an API key, a console user), set by the auth
// hooks; `audited` opens a transaction and hands the actor to the triggers with a transaction-local
// setting (`capconduit.actor`). Without an actor the triggers record `system`.
import { AsyncLocalStorage } from 'node:async_hooks';
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

export interface Actor {
  type: 'api_key' | 'console_user' | 'system';
  id: string | null;
  label: string | null;
}

const context = new AsyncLocalStorage<{ actor: Actor | null }>();

/** Runs `fn` (and everything it starts) in a fresh actor context: one per request. */
export function inActorContext<T>(fn: () => T): T {
  return context.run({ actor: null }, fn);
}

/** Names the actor of the current context (the request's key or user, once authenticated). */
export function setActor(a: Actor): void {
  const s = context.getStore();
  if (s) s.actor = a;
}

export function currentActor(): Actor | null {
  return context.getStore()?.actor ?? null;
}

/** Runs `fn` in a transaction whose audited changes are recorded as made by the current actor. */
export function audited<T>(db: Db, fn: (tx: Tx) => Promise<T>, actor = currentActor()): Promise<T> {
  return db.transaction(async (tx) => {
    if (actor) await tx.execute(sql`select set_config('capconduit.actor', ${JSON.stringify(actor)}, true)`);
    return fn(tx);
  });
}
