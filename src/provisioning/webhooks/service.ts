// Webhook subscriptions and deliveries: an event becomes one delivery row per matching subscription
// (a seller's subscriptions get only that seller's events), written in the transaction of the change
// it reports (the outbox, src/platform/outbox.ts), then handed to BullMQ (queue `webhooks`) and
// delivered at least once with retries and back-off, signed (sign.ts), to a destination checked again
// before every attempt (destination.ts). Every attempt's answer is kept in the delivery log.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import { and, arrayContains, desc, eq, inArray, isNull } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { BullErrors } from '../../platform/redis/client.ts';
import type { Sql } from 'postgres';
import { type WebhookEvent, webhookDeliveries, webhookSubscriptions } from '../../db/schema/provisioning.ts';
import { audited } from '../../platform/audit.ts';
import { type Db, listPage } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { OUTBOX_CHANNEL, type Writer, writeEvent } from '../../platform/outbox.ts';
import { type ListSort, orderOf } from '../../platform/db.ts';
import { WEBHOOK_SORTS } from '../repository.ts';
import type { Keyring } from '../sealed.ts';
import type { EventSink } from '../service.ts';
import { destinationProblem } from './destination.ts';
import { SIGNATURE_HEADER, sign } from './sign.ts';

export type Subscription = typeof webhookSubscriptions.$inferSelect;
export interface WebhookListQuery {
  limit: number;
  offset: number;
  order?: ListSort | undefined;
  active?: boolean | undefined;
  event?: WebhookEvent | undefined;
  /** A seller's own subscriptions; null: those to every seller's events; absent: all. */
  sellerId?: string | null | undefined;
}
export type Delivery = typeof webhookDeliveries.$inferSelect;

const QUEUE = 'webhooks';
const DISPATCH_BATCH = 200;
const OUTBOX_POLL_MS = 1000;
const secretContext = (id: string) => `webhook_subscription:${id}:secret`;

export interface WebhookSettings {
  prefix: string;
  attempts: number;
  allowPrivate: boolean;
  timeoutMs: number;
  /** The 'error' listener of the queue and the worker (without one, BullMQ prints errors raw). */
  errors: BullErrors;
}

/** Back-off between delivery attempts: 1 s, 2 s, 4 s ... at most 10 minutes. */
export const deliveryBackoffMs = (attemptsMade: number) =>
  Math.min(600_000, 1000 * 2 ** Math.max(0, attemptsMade - 1));

export class WebhookService implements EventSink {
  private queue: Queue;
  private worker: Worker | null = null;
  private dispatching: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private pollTimer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;

  constructor(
    private db: Db,
    private keyring: Keyring,
    private connection: Redis,
    private s: WebhookSettings,
    private log: Logger,
    /** The pool's postgres.js handle, to LISTEN for written events (without it: polling only). */
    private sql: Sql | null = null,
  ) {
    this.queue = new Queue(QUEUE, { connection, prefix: s.prefix });
    this.queue.on('error', s.errors.listener('webhook queue'));
  }

  async create(b: { url: string; events: WebhookEvent[]; sellerId: string | null }) {
    const problem = await destinationProblem(b.url, this.s.allowPrivate);
    if (problem) throw new AppError('VALIDATION_FAILED', `webhook URL refused: ${problem}`);
    const id = randomUUID();
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const [row] = await audited(this.db, (tx) =>
      tx
        .insert(webhookSubscriptions)
        .values({
          id,
          url: b.url,
          events: b.events,
          sellerId: b.sellerId,
          secret: this.keyring.seal(secret, secretContext(id)),
        })
        .returning(),
    );
    return { row: row!, secret };
  }

  /**
   * A page of subscriptions, newest first unless an allow-listed order is asked; a seller scope sees
   * its own only, whatever the filter says. `sellerId: null` is the subscriptions to every seller.
   */
  list(sellerScope: string | null, q: WebhookListQuery): Promise<{ items: Subscription[]; total: number }> {
    const w = webhookSubscriptions;
    const seller = sellerScope ?? q.sellerId;
    return listPage(this.db, w, {
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

  async get(id: string, sellerScope: string | null): Promise<Subscription> {
    const [r] = await this.db
      .select()
      .from(webhookSubscriptions)
      .where(
        and(
          eq(webhookSubscriptions.id, id),
          sellerScope ? eq(webhookSubscriptions.sellerId, sellerScope) : undefined,
        ),
      );
    if (!r) throw notFound('webhook subscription', id);
    return r;
  }

  /**
   * Pauses (false) or resumes (true) a subscription: an inactive one is written no deliveries for the
   * events that follow; deliveries already written go on being tried.
   */
  async setActive(id: string, sellerScope: string | null, active: boolean): Promise<Subscription> {
    await this.get(id, sellerScope);
    const [r] = await audited(this.db, (tx) =>
      tx.update(webhookSubscriptions).set({ active }).where(eq(webhookSubscriptions.id, id)).returning(),
    );
    return r!;
  }

  async remove(id: string, sellerScope: string | null): Promise<void> {
    await this.get(id, sellerScope);
    await audited(this.db, (tx) => tx.delete(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)));
  }

  async deliveries(id: string, sellerScope: string | null, limit: number): Promise<Delivery[]> {
    await this.get(id, sellerScope);
    return this.db
      .select()
      .from(webhookDeliveries)
      .where(eq(webhookDeliveries.subscriptionId, id))
      .orderBy(desc(webhookDeliveries.id))
      .limit(limit);
  }

  /**
   * One event to every subscription that wants it (a seller's subscriptions: its own events only),
   * written in `q`: pass the transaction of the change the event reports, so both commit together.
   */
  async emit(
    event: WebhookEvent,
    sellerId: string | null,
    data: Record<string, unknown>,
    q: Writer = this.db,
  ): Promise<void> {
    await writeEvent(q, { type: event, sellerId, data });
  }

  /** A test delivery to one subscription (event `webhook.test`), answered with its delivery row id. */
  async test(id: string, sellerScope: string | null): Promise<number> {
    const s = await this.get(id, sellerScope);
    const [row] = await writeEvent(this.db, {
      type: 'webhook.test',
      sellerId: s.sellerId,
      data: { subscription_id: s.id },
      subscriptionId: s.id,
    });
    return row ?? 0;
  }

  /**
   * Hands the outbox to the queue: rows not handed over yet, a batch at a time, locked with SKIP
   * LOCKED so instances share the work, marked in the same transaction after BullMQ has them. A crash
   * between the two hands a row over again, under the same BullMQ job id (kept for a day after it
   * ran), and a delivery already made is never made again (deliver() reads its status first).
   */
  async dispatch(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.db.transaction(async (tx) => {
        const rows = await tx
          .select({ id: webhookDeliveries.id })
          .from(webhookDeliveries)
          .where(isNull(webhookDeliveries.enqueuedAt))
          .orderBy(webhookDeliveries.id)
          .limit(DISPATCH_BATCH)
          .for('update', { skipLocked: true });
        if (!rows.length) return 0;
        await this.queue.addBulk(
          rows.map((r) => ({
            name: 'deliver',
            data: { deliveryId: r.id },
            opts: {
              jobId: `d${r.id}`,
              attempts: this.s.attempts,
              backoff: { type: 'delivery' },
              removeOnComplete: { age: 86_400 },
              removeOnFail: { age: 7 * 86_400 },
            },
          })),
        );
        await tx
          .update(webhookDeliveries)
          .set({ enqueuedAt: new Date() })
          .where(
            inArray(
              webhookDeliveries.id,
              rows.map((r) => r.id),
            ),
          );
        return rows.length;
      });
      total += n;
      if (n < DISPATCH_BATCH) return total;
    }
  }

  /** One dispatch pass at a time; a request during a pass runs another one after it. */
  private kick(): void {
    if (this.dispatching) {
      this.again = true;
      return;
    }
    this.dispatching = this.dispatch()
      .then(() => {})
      .catch((err: unknown) => this.log.warn({ err: (err as Error).message }, 'webhook outbox pass failed'))
      .finally(() => {
        this.dispatching = null;
        if (this.again && !this.closed) {
          this.again = false;
          this.kick();
        }
      });
  }

  /**
   * Follows the outbox: a pass on every notification of a written event, at start, and every
   * OUTBOX_POLL_MS (a notification sent while the listening connection was down is gone).
   */
  private async startDispatcher(): Promise<void> {
    this.kick();
    this.pollTimer = setInterval(() => this.kick(), OUTBOX_POLL_MS);
    this.pollTimer.unref();
    if (!this.sql) return;
    await this.sql
      .listen(
        OUTBOX_CHANNEL,
        () => this.kick(),
        () => this.kick(),
      )
      .then(
        (l) => {
          this.unlisten = l.unlisten;
        },
        (err: unknown) =>
          this.log.warn({ err: (err as Error).message }, 'cannot listen for webhook events; polling'),
      );
  }

  async startWorker(): Promise<void> {
    this.worker = new Worker(
      QUEUE,
      (j: Job) => this.deliver(Number(j.data.deliveryId), j.attemptsMade + 1 >= (j.opts.attempts ?? 1)),
      {
        connection: this.connection,
        prefix: this.s.prefix,
        concurrency: 8,
        settings: { backoffStrategy: (made: number) => deliveryBackoffMs(made) },
      },
    );
    this.worker.on('error', this.s.errors.listener('webhook worker'));
    await this.startDispatcher();
  }

  /** One attempt: POST the signed body; a non-2xx answer or no answer is retried until the last attempt. */
  private async deliver(id: number, last: boolean): Promise<void> {
    const [d] = await this.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.id, id));
    if (d?.status !== 'pending') return;
    const [s] = await this.db
      .select()
      .from(webhookSubscriptions)
      .where(eq(webhookSubscriptions.id, d.subscriptionId));
    if (!s) return;
    const body = JSON.stringify(d.payload);
    let status: number | null = null;
    let error: string | null = null;
    const problem = await destinationProblem(s.url, this.s.allowPrivate);
    if (problem) error = `destination refused: ${problem}`;
    else {
      try {
        const res = await fetch(s.url, {
          method: 'POST',
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'CapConduit-Webhooks/1',
            'capconduit-event': d.event,
            'capconduit-delivery': String(d.id),
            [SIGNATURE_HEADER]: sign(
              this.keyring.open(s.secret, secretContext(s.id)),
              Math.floor(Date.now() / 1000),
              body,
            ),
          },
          body,
          signal: AbortSignal.timeout(this.s.timeoutMs),
        });
        status = res.status;
        await res.body?.cancel();
        if (!res.ok) error = `HTTP ${res.status}`;
      } catch (e) {
        error =
          (e as Error).name === 'TimeoutError'
            ? `no answer within ${this.s.timeoutMs} ms`
            : (e as Error).message;
      }
    }
    const done = error === null;
    await this.db
      .update(webhookDeliveries)
      .set({
        attempts: d.attempts + 1,
        lastStatus: status,
        lastError: error,
        ...(done
          ? { status: 'delivered' as const, deliveredAt: new Date() }
          : last
            ? { status: 'failed' as const }
            : {}),
      })
      .where(eq(webhookDeliveries.id, id));
    if (!done && !last) throw new Error(error!);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.unlisten?.().catch(() => {});
    await this.dispatching;
    await this.worker?.close();
    await this.queue.close();
  }
}
