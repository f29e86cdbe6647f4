// A stop made of parts, each bounded. A graceful stop that hangs is worse than none: the service
// manager kills the process at its own timeout, mid-way, and nobody learns which part hung. Each part
// here gets a time; one that has not finished by then is logged by name and left behind, and the
// parts after it (the CDR journal's flush, PostgreSQL and Redis closed last) still run.

/** What a stop reports (a pino logger fits). */
export interface StopLog {
  debug(o: object, msg: string): void;
  warn(o: object, msg: string): void;
  error(o: object, msg: string): void;
}

export type PartOutcome = 'done' | 'failed' | 'timed_out';

/**
 * Runs one part of a stop for at most `ms`: 'done', 'failed' (its error logged) or 'timed_out'
 * (logged as not stopped in time; the part may still finish later, nobody waits for it).
 */
export async function stopPart(
  log: StopLog,
  part: string,
  run: () => Promise<unknown>,
  ms: number,
): Promise<PartOutcome> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'timed_out'>((resolve) => {
    timer = setTimeout(() => resolve('timed_out'), ms);
  });
  const outcome = await Promise.race([
    run().then(
      () => 'done' as const,
      (err: unknown) => {
        log.error({ part, err }, 'stop: part failed');
        return 'failed' as const;
      },
    ),
    late,
  ]);
  clearTimeout(timer);
  if (outcome === 'timed_out')
    log.warn({ part, waitedMs: ms }, 'stop: part not stopped in time; going on without it');
  else log.debug({ part, ms: Date.now() - started }, 'stop: part stopped');
  return outcome;
}

/**
 * How long one part of the daemon's stop (the API, a module, a connection) may take: half of
 * SHUTDOWN_GRACE_MS, so that after a part that hangs the rest still has the other half.
 */
export function stopPartMs(graceMs: number): number {
  return Math.max(100, Math.floor(graceMs / 2));
}
