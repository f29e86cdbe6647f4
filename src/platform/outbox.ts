// The event outbox. An event (a webhook) is written in the same transaction as the change it reports:
// one `webhook_deliveries` row per subscription that wants it, so the event commits with the change or
// not at all, and a process that dies after the commit loses nothing. The delivery worker hands rows
// still marked not handed over (`enqueued_at is null`) to its queue, woken by the notification sent
// here on commit and by a periodic pass (src/provisioning/webhooks/service.ts). Every domain writes
// its events through this one function.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Db } from './db.ts';

type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** The database or a caller's transaction. */
export type Writer = Db | Tx;

/** Notified (on commit) when an event was written; the delivery worker listens. */
export const OUTBOX_CHANNEL = 'capconduit_outbox';

export interface OutboxEvent {
  type: string;
  /** The seller the event belongs to: its subscriptions get it, staff ones too. Null: staff only. */
  sellerId: string | null;
  data: Record<string, unknown>;
  /** One subscription only, whatever it subscribed to (a test delivery, a seller's postback). */
  subscriptionId?: string;
}

/** Writes an event for every subscription that wants it; answers the delivery row ids (none: no subscriber). */
export async function writeEvent(q: Writer, e: OutboxEvent): Promise<number[]> {
  const id = randomUUID();
  const payload = { id, type: e.type, created_at: new Date().toISOString(), data: e.data };
  const who = e.subscriptionId
    ? sql`s.id = ${e.subscriptionId}`
    : sql`s.active and ${e.type} = any(s.events) and ${
        e.sellerId ? sql`(s.seller_id is null or s.seller_id = ${e.sellerId})` : sql`s.seller_id is null`
      }`;
  const rows = (await q.execute(sql`
    insert into webhook_deliveries (subscription_id, event_id, event, payload)
    select s.id, ${id}, ${e.type}, ${JSON.stringify(payload)}::jsonb
      from webhook_subscriptions s where ${who}
    on conflict do nothing
    returning id`)) as unknown as Array<{ id: string | number }>;
  if (rows.length) await q.execute(sql`select pg_notify(${OUTBOX_CHANNEL}, '')`);
  return rows.map((r) => Number(r.id));
}
