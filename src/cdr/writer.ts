// The durable CDR write path. A record is first appended to a local journal file and fsync'd (so a
// PostgreSQL outage or a crash loses nothing), then inserted into PostgreSQL in batches with
// ON CONFLICT DO NOTHING (so replaying a journal is harmless). The journal rotates: new records go
// to `open-*.jsonl`; a flush renames it to `flushing-*.jsonl` and deletes it only after the insert
// committed. At start every leftover journal is replayed.
import { mkdirSync, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sql } from 'postgres';
import type { Logger } from '../platform/logger.ts';
import { pgError } from '../platform/pg-errors.ts';
import { OUTBOX_CHANNEL } from '../platform/outbox.ts';
import { rollupSql } from '../reports/rollup.ts';

const ROLLUP_ADDED = rollupSql('select * from call_records where call_id = any($1::text[])');

export interface CdrRecord {
  call_id: string;
  node_id: string;
  seller_id: string | null;
  campaign_id: string | null;
  did: string | null;
  caller_number: string | null;
  client_id: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string;
  duration_s: number;
  billable_s: number;
  disposition: string;
  hangup_cause: number | null;
  attempts: unknown[];
  /** Links that took no part in the call and why (absent in journals written before it existed). */
  not_routed?: Array<{ link_id: string; client_id: string; reason: string }>;
  // Absent in journals written before money and names were recorded (the columns' defaults apply).
  link_id?: string | null;
  did_id?: string | null;
  seller_name?: string | null;
  campaign_name?: string | null;
  client_name?: string | null;
  talk_s?: number;
  converted?: boolean;
  payout_micros?: number;
  revenue_micros?: number;
  cost_micros?: number;
  /** The default route the call took (absent in journals written before it existed). */
  default_route?: string | null;
  /** How an answered call ended (absent in journals written before it existed). */
  end_reason?: string | null;
  /** When the call left our app for a dialplan context (absent in journals written before it existed). */
  handed_off_at?: string | null;
  /** The call's recording (absent in journals written before it existed). */
  recording_name?: string | null;
  recording_s?: number | null;
  /** The caller's channel id on the node (absent in journals written before it existed). */
  caller_channel_id?: string | null;
}

export class CdrWriter {
  private queue: Array<{ line: string; done: () => void; fail: (e: Error) => void }> = [];
  /** Every operation on the journal files (append, rotate) runs on this chain, one at a time. */
  private fileOps: Promise<void> = Promise.resolve();
  private draining = false;
  /** The open journal stays open between appends: opening and closing it per batch was measurable. */
  private fh: FileHandle | null = null;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;
  private readonly open: string;
  /** Records in the journal not yet known to be in PostgreSQL. */
  pending = 0;
  lastError: string | null = null;
  /** Records PostgreSQL refused for their content, set aside in `rejected-<instance>.jsonl`. */
  rejected = 0;
  /** Told of each record set aside (metrics.ts counts them). */
  onRejected?: () => void;

  constructor(
    private sql: Sql,
    private dir: string,
    private instanceId: string,
    private log: Logger,
    private flushEveryMs = 500,
    private batchSize = 500,
  ) {
    mkdirSync(dir, { recursive: true });
    this.open = join(dir, `open-${instanceId}.jsonl`);
  }

  start(): void {
    // A flush that fails (the journal folder unreadable) is logged; the next tick tries again.
    const flush = () =>
      void this.flush().catch((err: unknown) =>
        this.log.error({ err: (err as Error).message }, 'CDR flush failed'),
      );
    this.timer = setInterval(flush, this.flushEveryMs);
    this.timer.unref();
    flush();
  }

  /** Resolves once the record is on disk (fsync'd); PostgreSQL follows asynchronously. */
  write(r: CdrRecord): Promise<void> {
    return new Promise((done, fail) => {
      this.queue.push({ line: `${JSON.stringify(r)}\n`, done, fail });
      if (!this.draining) {
        this.draining = true;
        void this.onFile(() => this.drainQueue());
      }
    });
  }

  private onFile<T>(op: () => Promise<T>): Promise<T> {
    const r = this.fileOps.then(op);
    this.fileOps = r.then(
      () => {},
      () => {},
    );
    return r;
  }

  /** Appends what is queued in batches (records that arrive during an fsync form the next batch). */
  private async drainQueue(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0);
        try {
          this.fh ??= await fs.open(this.open, 'a');
          await this.fh.write(batch.map((b) => b.line).join(''));
          await this.fh.datasync();
          this.pending += batch.length;
          for (const b of batch) b.done();
        } catch (e) {
          await this.closeJournal();
          for (const b of batch) b.fail(e as Error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private async closeJournal(): Promise<void> {
    const fh = this.fh;
    this.fh = null;
    await fh?.close().catch(() => {});
  }

  /** Moves journals into PostgreSQL; safe to call at any time, one flush runs at once. */
  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    // Rotate the open journal (between appends, never during one) so appends continue while we insert.
    await this.onFile(async () => {
      await this.closeJournal();
      try {
        await fs.rename(
          this.open,
          join(this.dir, `flushing-${this.instanceId}-${Date.now()}-${++this.seq}.jsonl`),
        );
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    });
    const files = (await fs.readdir(this.dir)).filter((f) => f.startsWith('flushing-')).sort();
    for (const f of files) {
      const path = join(this.dir, f);
      const text = await fs.readFile(path, 'utf8');
      const rows: CdrRecord[] = [];
      for (const line of text.split('\n')) {
        if (!line) continue;
        try {
          rows.push(JSON.parse(line) as CdrRecord);
        } catch {
          // A torn last line from a crash mid-append: the call's record was never acknowledged.
          this.log.warn({ file: f }, 'skipping a torn CDR journal line');
        }
      }
      try {
        for (let i = 0; i < rows.length; i += this.batchSize)
          await this.insertOrSetAside(rows.slice(i, i + this.batchSize));
      } catch (e) {
        const msg = (e as Error).message;
        if (this.lastError !== msg)
          this.log.warn(
            { err: msg, buffered: rows.length },
            'CDRs kept in the local journal until PostgreSQL is back',
          );
        this.lastError = msg;
        return;
      }
      await fs.unlink(path);
      this.pending = Math.max(0, this.pending - rows.length);
      if (this.lastError) this.log.info('PostgreSQL is back: buffered CDRs written');
      this.lastError = null;
    }
  }

  /**
   * Inserts a batch; when PostgreSQL refuses it for what a row holds (a data or constraint error, not
   * an outage), the rows go one by one and each refused one is set aside in `rejected-*.jsonl` with
   * the reason, logged. Without this one bad record would hold every later CDR in the journal for good,
   * the flush taking the refusal for an outage.
   */
  private async insertOrSetAside(rows: CdrRecord[]): Promise<void> {
    try {
      await this.insert(rows);
      return;
    } catch (e) {
      if (!refusesTheRow(e)) throw e;
    }
    for (const row of rows) {
      try {
        await this.insert([row]);
      } catch (e) {
        if (!refusesTheRow(e)) throw e;
        const err = (e as Error).message;
        await fs.appendFile(
          join(this.dir, `rejected-${this.instanceId}.jsonl`),
          `${JSON.stringify({ err, record: row })}\n`,
        );
        this.rejected++;
        this.onRejected?.();
        this.log.error(
          { callId: row.call_id, err },
          'CDR refused by PostgreSQL: set aside in the journal folder',
        );
      }
    }
  }

  private async insert(rows: CdrRecord[]): Promise<void> {
    if (!rows.length) return;
    const values = rows.map((r) => ({
      ...r,
      attempts: JSON.stringify(r.attempts),
      not_routed: JSON.stringify(r.not_routed ?? []),
      link_id: r.link_id ?? null,
      did_id: r.did_id ?? null,
      seller_name: r.seller_name ?? null,
      campaign_name: r.campaign_name ?? null,
      client_name: r.client_name ?? null,
      talk_s: r.talk_s ?? r.billable_s,
      converted: r.converted ?? false,
      payout_micros: r.payout_micros ?? 0,
      revenue_micros: r.revenue_micros ?? 0,
      cost_micros: r.cost_micros ?? 0,
      default_route: r.default_route ?? null,
      end_reason: r.end_reason ?? null,
      handed_off_at: r.handed_off_at ?? null,
      recording_name: r.recording_name ?? null,
      recording_s: r.recording_s ?? null,
      caller_channel_id: r.caller_channel_id ?? null,
    }));
    // The records and their postbacks commit together: each record inserted now (not one a replayed
    // journal had inserted before) becomes a `call.completed` event for every subscription that wants
    // it, its seller's own and staff ones (the webhook outbox, src/platform/outbox.ts). The event id is
    // derived from the call id, so a receiver can deduplicate on it.
    // The report rollups count, in the same transaction, exactly the records inserted now.
    await this.sql.begin(async (tx) => {
      const [r] = await tx`
      with ins as (
      insert into call_records ${tx(
        values,
        'call_id',
        'node_id',
        'seller_id',
        'campaign_id',
        'did',
        'caller_number',
        'client_id',
        'started_at',
        'answered_at',
        'ended_at',
        'duration_s',
        'billable_s',
        'disposition',
        'hangup_cause',
        'attempts',
        'not_routed',
        'link_id',
        'did_id',
        'seller_name',
        'campaign_name',
        'client_name',
        'talk_s',
        'converted',
        'payout_micros',
        'revenue_micros',
        'cost_micros',
        'default_route',
        'end_reason',
        'handed_off_at',
        'recording_name',
        'recording_s',
        'caller_channel_id',
      )}
      on conflict (call_id) do nothing
      returning *),
      ev as (
      insert into webhook_deliveries (subscription_id, event_id, event, payload)
      select s.id, md5('call.completed:' || ins.call_id)::uuid, 'call.completed',
             jsonb_build_object('id', md5('call.completed:' || ins.call_id)::uuid, 'type', 'call.completed',
               'created_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
               'data', to_jsonb(ins) - 'recorded_at' - 'caller_channel_id')
        from ins join webhook_subscriptions s
          on s.active and 'call.completed' = any(s.events)
         and (s.seller_id is null or s.seller_id = ins.seller_id)
      on conflict do nothing
      returning 1)
      select (select count(*)::int from ev) as n, (select array_agg(call_id) from ins) as added`;
      if (r?.n) await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
      if (r?.added?.length) await tx.unsafe(ROLLUP_ADDED, [r.added as string[]]);
    });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.fileOps;
    await this.flush().catch(() => {});
    await this.onFile(() => this.closeJournal());
  }
}

/**
 * A refusal of the row itself (SQLSTATE class 22, data exception, or 23, integrity constraint
 * violation): the same row fails the same way every time, unlike a lost connection or a server down.
 */
export function refusesTheRow(e: unknown): boolean {
  const code = pgError(e).code ?? '';
  return code.startsWith('22') || code.startsWith('23');
}
