import { SingleBar } from 'cli-progress';
import { loadToolConfig } from '../config.ts';
import { createDatabase } from '../platform/db.ts';
import { ProvisioningRepository } from '../provisioning/repository.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit jobs watch <job id> [--json]

Shows a provisioning job's progress (items answered of the total, counts by outcome) until it
completes, then prints its final counts as one JSON line. --json prints only that line.
`;

/** `capconduit jobs watch <id>`: a provisioning job's progress bar until it completes, then its counts. */
export async function run(argv: string[]): Promise<number> {
  const { positionals, values } = parseCli(argv, { json: { type: 'boolean' } }, true);
  const [verb, id] = positionals;
  if (verb !== 'watch' || !id || !/^[0-9a-f-]{36}$/i.test(id))
    throw new UsageError('usage: capconduit jobs watch <job id>');
  const config = loadToolConfig();
  const database = createDatabase(config.DATABASE_URL, { max: 1 });
  const repo = new ProvisioningRepository(database.db);
  try {
    const job = await repo.job(id, null);
    if (!job) throw new UsageError(`no job ${id}`);
    const bar = values.json
      ? null
      : new SingleBar({ format: ' {bar} {value}/{total} items | {counts}', hideCursor: true });
    bar?.start(job.total, 0, { counts: '' });
    for (;;) {
      const [j, counts] = await Promise.all([repo.job(id, null), repo.itemCounts(id)]);
      const open = (counts.queued ?? 0) + (counts.chosen ?? 0);
      bar?.update(j!.total - open, {
        counts: Object.entries(counts)
          .map(([k, n]) => `${k} ${n}`)
          .join(', '),
      });
      if (j!.status === 'completed') {
        bar?.stop();
        process.stdout.write(`${JSON.stringify({ id, status: j!.status, total: j!.total, counts })}\n`);
        return 0;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    await database.close();
  }
}
