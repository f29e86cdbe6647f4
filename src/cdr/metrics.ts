// The CDR write path's Prometheus metrics. Records wait in the local journal while PostgreSQL is
// unreachable (nothing is lost, but reports lag); a record PostgreSQL refuses for its content is set
// aside in `rejected-<instance>.jsonl` in the journal folder and is missing from reports until an
// operator corrects and replays it, so each one is counted.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CdrWriter } from './writer.ts';

export function cdrMetrics(registry: Registry, writer: CdrWriter): void {
  const rejected = new Counter({
    name: 'capconduit_cdr_rejected_total',
    help: 'Call records PostgreSQL refused for their content, set aside in rejected-<instance>.jsonl in CDR_BUFFER_DIR',
    registers: [registry],
  });
  writer.onRejected = () => rejected.inc();
  new Gauge({
    name: 'capconduit_cdr_pending',
    help: 'Call records in the local journal not yet known to be in PostgreSQL',
    registers: [registry],
    collect() {
      this.set(writer.pending);
    },
  });
  new Gauge({
    name: 'capconduit_cdr_write_failing',
    help: 'Whether the last attempt to write the journal to PostgreSQL failed (1: records wait on local disk)',
    registers: [registry],
    collect() {
      this.set(writer.lastError ? 1 : 0);
    },
  });
}
