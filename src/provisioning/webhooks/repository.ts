// Every SQL statement of the webhook subscriptions and their delivery log. Deliveries are written by
// the outbox (src/platform/outbox.ts, in the transaction of the change they report); here they are
// read, handed to the queue in batches and given each attempt's answer. Functions take the database
// or the caller's transaction.
import { and, arrayContains, desc, eq, inArray, isNull } from 'drizzle-orm';
import { type WebhookEvent, webhookDeliveries, webhookSubscriptions } from '../../db/schema/provisioning.ts';
import { type Db, type ListSort, listPage, orderOf } from '../../platform/db.ts';
import type { Writer } from '../../platform/outbox.ts';

export type Subscription = typeof webhookSubscriptions.$inferSelect;
export type Delivery = typeof webhookDeliveries.$inferSelect;

/** The orders a page of webhook subscriptions can be read in (the id breaks ties). */
export const WEBHOOK_SORTS = {
  url: webhookSubscriptions.url,
  active: webhookSubscriptions.active,
  created_at: webhookSubscriptions.createdAt,
};

export interface WebhookListQuery {
  limit: number;
  offset: number;
  order?: ListSort | undefined;
  active?: boolean | undefined;
  event?: WebhookEvent | undefined;
  /** A seller's own subscriptions; null: those to every seller's events; absent: all. */
  sellerId?: string | null | undefined;
}

export async function insertSubscription(
  q: Writer,
  v: typeof webhookSubscriptions.$inferInsert,
): Promise<Subscription> {
  const [r] = await q.insert(webhookSubscriptions).values(v).returning();
  return r!;
}

/**
 * A page of subscriptions, newest first unless an allow-listed order is asked. `seller`: one seller's
 * own, null: those to every seller's events, undefined: all.
 */
export function listSubscriptions(db: Db, seller: string | null | undefined, q: WebhookListQuery) {
  const w = webhookSubscriptions;
  return listPage(db, w, {
    where: and(
      seller === null ? isNull(w.sellerId) : seller ? eq(w.sellerId, seller) : undefined,
      q.active === undefined ? undefined : eq(w.active, q.active),
      q.event ? arrayContains(w.events, [q.event]) : undefined,
    ),
    orderBy: orderOf(WEBHOOK_SORTS, w.id, q.order, [desc(w.createdAt), desc(w.id)]),
    limit: q.limit,
    offset: q.offset,
  });
}

/** One subscription; with a seller scope, only that seller's own. */
export async function subscription(
  db: Db,
  id: string,
  sellerScope: string | null,
): Promise<Subscription | null> {
  const w = webhookSubscriptions;
  const [r] = await db
    .select()
    .from(w)
    .where(and(eq(w.id, id), sellerScope ? eq(w.sellerId, sellerScope) : undefined));
  return r ?? null;
}

export async function setSubscriptionActive(q: Writer, id: string, active: boolean): Promise<Subscription> {
  const [r] = await q
    .update(webhookSubscriptions)
    .set({ active })
    .where(eq(webhookSubscriptions.id, id))
    .returning();
  return r!;
}

export async function deleteSubscription(q: Writer, id: string): Promise<void> {
  await q.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id));
}

/** A subscription's delivery log, newest first. */
export function deliveriesOf(db: Db, subscriptionId: string, limit: number): Promise<Delivery[]> {
  return db
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.subscriptionId, subscriptionId))
    .orderBy(desc(webhookDeliveries.id))
    .limit(limit);
}

/**
 * The oldest deliveries not handed to the queue yet, locked in the caller's transaction with SKIP
 * LOCKED so that instances share the work.
 */
export async function lockUnqueued(tx: Writer, limit: number): Promise<number[]> {
  const rows = await tx
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(isNull(webhookDeliveries.enqueuedAt))
    .orderBy(webhookDeliveries.id)
    .limit(limit)
    .for('update', { skipLocked: true });
  return rows.map((r) => r.id);
}

export async function markEnqueued(tx: Writer, ids: number[]): Promise<void> {
  await tx
    .update(webhookDeliveries)
    .set({ enqueuedAt: new Date() })
    .where(inArray(webhookDeliveries.id, ids));
}

export async function delivery(db: Db, id: number): Promise<Delivery | null> {
  const [d] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
  return d ?? null;
}

/** One attempt's answer: `done` delivered, else failed for good when it was the `last` attempt. */
export async function recordAttempt(
  db: Db,
  d: Delivery,
  a: { status: number | null; error: string | null; done: boolean; last: boolean },
): Promise<void> {
  await db
    .update(webhookDeliveries)
    .set({
      attempts: d.attempts + 1,
      lastStatus: a.status,
      lastError: a.error,
      ...(a.done
        ? { status: 'delivered' as const, deliveredAt: new Date() }
        : a.last
          ? { status: 'failed' as const }
          : {}),
    })
    .where(eq(webhookDeliveries.id, d.id));
}
