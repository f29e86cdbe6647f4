// Jobs on BullMQ: a job is a flow whose parent (queue `jobs`) runs once every child has run, and whose
// children are its items, one BullMQ queue per provider account so each account has its own
// concurrency. Item ids are BullMQ job ids, so handing a job over twice adds nothing. A worker killed
// mid-item leaves the item locked for PROVISIONING_LOCK_MS; another worker then takes it over and the
// item runner makes that safe (jobs/items.ts).
import { FlowProducer, type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WorkerCloser } from '../../platform/redis/bull-close.ts';
import type { BullErrors } from '../../platform/redis/client.ts';
import { Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../platform/logger.ts';
import type { JobRow } from '../repository.ts';
import type { JobQueue, ProvisioningService } from '../service.ts';
import { isPermanent, type ItemRunner, RetryLater } from './items.ts';
import { isProviderError } from '../providers/types.ts';

export interface QueueSettings {
  prefix: string;
  attempts: number;
  lockMs: number;
  /** Hours between reconcile runs of every account (0: none). */
  reconcileEveryH: number;
  /** The 'error' listener of each queue and worker (without one, BullMQ prints errors raw). */
  errors: BullErrors;
}

const PARENTS = 'jobs';
const itemsQueue = (accountId: string) => `items-${accountId}`;

/** Back-off of a retried item: the carrier's Retry-After when it gave one, else exponential with jitter. */
export function backoffMs(attemptsMade: number, err: unknown): number {
  const after =
    err instanceof RetryLater ? err.retryAfterMs : isProviderError(err) ? err.detail.retryAfterMs : undefined;
  const exp = Math.min(15_000, 250 * 2 ** Math.max(0, attemptsMade - 1));
  return Math.max(after ?? 0, exp) + Math.floor(Math.random() * 100);
}

export class ProvisioningQueues implements JobQueue {
  private flow: FlowProducer;
  private parents: Queue;
  private queues = new Map<string, Queue>();
  private workers = new Map<string, Worker>();
  private parentWorker: Worker | null = null;
  private maintenance: Queue;
  private maintenanceWorker: Worker | null = null;
  private refreshTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private connection: Redis,
    private svc: ProvisioningService,
    private runner: ItemRunner,
    private s: QueueSettings,
    private log: Logger,
    metrics: Registry,
  ) {
    this.flow = new FlowProducer({ connection, prefix: s.prefix });
    this.flow.on('error', s.errors.listener('provisioning flow producer'));
    this.parents = new Queue(PARENTS, { connection, prefix: s.prefix });
    this.parents.on('error', s.errors.listener('provisioning jobs queue'));
    this.maintenance = new Queue('maintenance', { connection, prefix: s.prefix });
    this.maintenance.on('error', s.errors.listener('provisioning maintenance queue'));
    const queues = this.queues;
    new Gauge({
      name: 'capconduit_provisioning_queue_depth',
      help: 'Job items per provider account and BullMQ state',
      labelNames: ['provider_account', 'state'],
      registers: [metrics],
      async collect() {
        this.reset();
        for (const [id, q] of queues) {
          const c = await q.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
          for (const [state, n] of Object.entries(c)) this.set({ provider_account: id, state }, n);
        }
      },
    });
  }

  private queue(accountId: string): Queue {
    let q = this.queues.get(accountId);
    if (!q) {
      q = new Queue(itemsQueue(accountId), { connection: this.connection, prefix: this.s.prefix });
      q.on('error', this.s.errors.listener('provisioning items queue'));
      this.queues.set(accountId, q);
    }
    return q;
  }

  /**
   * A disabled account's items wait: its queue is paused in Redis, so no worker of any instance takes
   * another one (those running finish) until it is resumed.
   */
  async setPaused(accountId: string, paused: boolean): Promise<void> {
    const q = this.queue(accountId);
    if (paused) await q.pause();
    else await q.resume();
  }

  /** Whether the account's items wait (its queue paused in Redis). */
  isPaused(accountId: string): Promise<boolean> {
    return this.queue(accountId).isPaused();
  }

  async enqueue(job: JobRow, itemIds: string[]): Promise<void> {
    this.queue(job.providerAccountId);
    if (await this.parents.getJob(job.id)) return; // already handed over; BullMQ keeps it through crashes
    await this.flow.add({
      name: 'job',
      queueName: PARENTS,
      data: { jobId: job.id },
      opts: {
        jobId: job.id,
        attempts: 50,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: 86_400 },
      },
      children: itemIds.map((id) => ({
        name: job.kind,
        queueName: itemsQueue(job.providerAccountId),
        data: { itemId: id },
        opts: {
          jobId: id,
          attempts: this.s.attempts,
          backoff: { type: 'carrier' },
          ignoreDependencyOnFailure: true,
          removeOnComplete: { age: 86_400 },
          removeOnFail: { age: 7 * 86_400 },
        },
      })),
    });
    // An account created since the last refresh has no worker here yet: start it now rather than
    // leave the account's first job waiting for the next refresh (up to 10 s).
    if (this.parentWorker && !this.workers.has(job.providerAccountId))
      await this.refresh().catch((err) => this.log.warn({ err }, 'provisioning workers refresh failed'));
  }

  /** Starts the workers: the parents', and one per provider account (new accounts are picked up). */
  async startWorkers(): Promise<void> {
    this.parentWorker = new Worker(PARENTS, (j: Job) => this.finishJob(String(j.data.jobId)), {
      connection: this.connection,
      prefix: this.s.prefix,
      concurrency: 4,
    });
    this.parentWorker.on('error', this.s.errors.listener('provisioning jobs worker'));
    await this.refresh();
    // Jobs written to PostgreSQL but never handed to BullMQ (a crash in between) are handed over now.
    for (const j of await this.svc.repo.unfinishedJobs()) await this.svc.resume(j);
    // The reconcile run: one BullMQ job scheduler, so several instances still run it once an interval.
    if (this.s.reconcileEveryH > 0) {
      await this.maintenance.upsertJobScheduler(
        'reconcile',
        { every: this.s.reconcileEveryH * 3_600_000 },
        { name: 'reconcile' },
      );
      this.maintenanceWorker = new Worker(
        'maintenance',
        async () => {
          for (const a of await this.svc.repo.accounts())
            if (a.active)
              await this.svc
                .reconcile(a.id, false)
                .catch((err: unknown) => this.log.warn({ err, account: a.name }, 'reconcile failed'));
        },
        { connection: this.connection, prefix: this.s.prefix, concurrency: 1 },
      );
      this.maintenanceWorker.on('error', this.s.errors.listener('provisioning maintenance worker'));
    } else await this.maintenance.removeJobScheduler('reconcile');
    this.refreshTimer = setInterval(() => void this.refresh().catch(() => {}), 10_000);
    this.refreshTimer.unref();
  }

  /**
   * One worker per provider account, at the account's concurrency; each account's queue paused as
   * the account is disabled (a change whose pause or resume was lost to a crash is put right here).
   */
  refresh(): Promise<void> {
    // One at a time (the timer and a job's enqueue both refresh): two at once would both see an
    // account without a worker and start two.
    const next = this.refreshing.then(() => this.refreshNow());
    this.refreshing = next.catch(() => {});
    return next;
  }

  private async refreshNow(): Promise<void> {
    for (const a of await this.svc.repo.accounts()) {
      // The queue's state first, the account's after: a change landing in between is then either
      // seen here or made by its own setPaused after this read, never undone by a stale row.
      const paused = await this.isPaused(a.id);
      const now = await this.svc.repo.account(a.id);
      if (now && paused === now.active) await this.setPaused(a.id, !now.active);
      const w = this.workers.get(a.id);
      if (w) {
        if (w.concurrency !== a.concurrency) w.concurrency = a.concurrency;
        continue;
      }
      if (this.closed) return; // a refresh still running when close() began starts no worker
      const worker = new Worker(
        itemsQueue(a.id),
        async (j: Job) => {
          const last = j.attemptsMade + 1 >= (j.opts.attempts ?? 1);
          await this.runner.run(String(j.data.itemId), last);
        },
        {
          connection: this.connection,
          prefix: this.s.prefix,
          concurrency: a.concurrency,
          lockDuration: this.s.lockMs,
          stalledInterval: Math.max(1000, Math.floor(this.s.lockMs / 2)),
          // A crash is not the item's fault: never fail an item for having been taken over.
          maxStalledCount: 1000,
          settings: { backoffStrategy: (made: number, _t?: string, err?: Error) => backoffMs(made, err) },
        },
      );
      worker.on('failed', (j, err) => {
        if (j && !isPermanent(err))
          this.log.debug({ item: j.data.itemId, err: err.message }, 'job item will be retried');
      });
      worker.on('error', this.s.errors.listener('provisioning items worker'));
      this.workers.set(a.id, worker);
    }
  }

  /** The parent ran: every item has run. Items left without an answer are reported as given up. */
  private async finishJob(jobId: string): Promise<void> {
    const repo = this.svc.repo;
    await repo.failOpenItems(jobId, 'attempts exhausted without an answer');
    await this.svc.completeIfDone(jobId);
  }

  /** Closes the workers (through `closeWorkers`: bounded, see bull-close.ts), then the queues. */
  async close(closeWorkers: WorkerCloser): Promise<void> {
    this.closed = true;
    if (this.refreshTimer) clearInterval(this.refreshTimer);
    await closeWorkers([
      ...[...this.workers].map(([account, w]): [string, Worker] => [
        `provisioning items worker ${account}`,
        w,
      ]),
      ...(this.parentWorker ? [['provisioning jobs worker', this.parentWorker] as [string, Worker]] : []),
      ...(this.maintenanceWorker
        ? [['provisioning maintenance worker', this.maintenanceWorker] as [string, Worker]]
        : []),
    ]);
    await this.maintenance.close();
    await Promise.all([...this.queues.values()].map((q) => q.close()));
    await this.parents.close();
    await this.flow.close();
  }
}
