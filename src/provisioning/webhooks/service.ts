// Webhook subscriptions and deliveries: an event becomes one delivery row per matching subscription
// (a seller's subscriptions get only that seller's events), written in the transaction of the change
// it reports (the outbox, src/platform/outbox.ts), then handed to BullMQ (queue `webhooks`) and
// delivered at least once with retries and back-off, signed (sign.ts), to a destination checked again
// before every attempt (destination.ts). Every attempt's answer is kept in the delivery log. The SQL
// is in repository.ts beside this file.
import { randomBytes, randomUUID } from 'node:crypto';
import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerCloser } from '../../platform/redis/bull-close.ts';
import type { BullErrors } from '../../platform/redis/client.ts';
import type { Sql } from 'postgres';
import type { WebhookEvent } from '../../db/schema/provisioning.ts';
import { type Actor, audited } from '../../platform/audit.ts';
import type { Db } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { OUTBOX_CHANNEL, type Writer, writeEvent } from '../../platform/outbox.ts';
import type { Keyring } from '../sealed.ts';
import type { EventSink } from '../service.ts';
import { destinationProblem } from './destination.ts';
import * as repo from './repository.ts';
import type { Delivery, Subscription, WebhookListQuery } from './repository.ts';
import { SIGNATURE_HEADER, sign } from './sign.ts';

export type { Delivery, Subscription, WebhookListQuery } from './repository.ts';

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

  async create(b: { url: string; events: WebhookEvent[]; sellerId: string | null }, actor: Actor | null) {
    const problem = await destinationProblem(b.url, this.s.allowPrivate);
    if (problem) throw new AppError('VALIDATION_FAILED', `webhook URL refused: ${problem}`);
    const id = randomUUID();
    const secret = `whsec_${randomBytes(24).toString('base64url')}`;
    const row = await audited(
      this.db,
      (tx) =>
        repo.insertSubscription(tx, {
          id,
          url: b.url,
          events: b.events,
          sellerId: b.sellerId,
          secret: this.keyring.seal(secret, secretContext(id)),
        }),
      actor,
    );
    return { row, secret };
  }

  /**
   * A page of subscriptions, newest first unless an allow-listed order is asked; a seller scope sees
   * its own only, whatever the filter says. `sellerId: null` is the subscriptions to every seller.
   */
  list(sellerScope: string | null, q: WebhookListQuery): Promise<{ items: Subscription[]; total: number }> {
    return repo.listSubscriptions(this.db, sellerScope ?? q.sellerId, q);
  }

  async get(id: string, sellerScope: string | null): Promise<Subscription> {
    const r = await repo.subscription(this.db, id, sellerScope);
    if (!r) throw notFound('webhook subscription', id);
    return r;
  }

  /**
   * Pauses (false) or resumes (true) a subscription: an inactive one is written no deliveries for the
   * events that follow; deliveries already written go on being tried.
   */
  async setActive(
    id: string,
    sellerScope: string | null,
    active: boolean,
    actor: Actor | null,
  ): Promise<Subscription> {
    await this.get(id, sellerScope);
    return audited(this.db, (tx) => repo.setSubscriptionActive(tx, id, active), actor);
  }

  async remove(id: string, sellerScope: string | null, actor: Actor | null): Promise<void> {
    await this.get(id, sellerScope);
    await audited(this.db, (tx) => repo.deleteSubscription(tx, id), actor);
  }

  async deliveries(id: string, sellerScope: string | null, limit: number): Promise<Delivery[]> {
    await this.get(id, sellerScope);
    return repo.deliveriesOf(this.db, id, limit);
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
        const ids = await repo.lockUnqueued(tx, DISPATCH_BATCH);
        if (!ids.length) return 0;
        await this.queue.addBulk(
          ids.map((id) => ({
            name: 'deliver',
            data: { deliveryId: id },
            opts: {
              jobId: `d${id}`,
              attempts: this.s.attempts,
              backoff: { type: 'delivery' },
              removeOnComplete: { age: 86_400 },
              removeOnFail: { age: 7 * 86_400 },
            },
          })),
        );
        await repo.markEnqueued(tx, ids);
        return ids.length;
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
    const d = await repo.delivery(this.db, id);
    if (d?.status !== 'pending') return;
    const s = await repo.subscription(this.db, d.subscriptionId, null);
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
    await repo.recordAttempt(this.db, d, { status, error, done, last });
    if (!done && !last) throw new Error(error!);
  }

  /** Closes the worker (through `closeWorkers`: bounded, see bull-close.ts), then the queue. */
  async close(closeWorkers: WorkerCloser): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.unlisten?.().catch(() => {});
    await this.dispatching;
    if (this.worker) await closeWorkers([['webhook worker', this.worker]]);
    await this.queue.close();
  }
}
