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
import type { CdrRecord } from './record.ts';
import { insertCallRecords } from './repository.ts';

// The record's shape is the builder's (record.ts); its name stays importable from here.
export type { CdrRecord } from './record.ts';

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
      await insertCallRecords(this.sql, rows);
      return;
    } catch (e) {
      if (!refusesTheRow(e)) throw e;
    }
    for (const row of rows) {
      try {
        await insertCallRecords(this.sql, [row]);
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
