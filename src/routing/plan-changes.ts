// Plans change at once on every instance: PostgreSQL triggers on the tables calls are routed by
// notify `capconduit_routing` (migration 0008), and each instance LISTENs and drops its cached plans.
// postgres.js keeps the listening connection up by itself; each time it (re)connects we drop the
// cache too, since a notification sent while it was down is gone.
import { Counter, type Registry } from 'prom-client';
import type { Sql } from 'postgres';
import type { Logger } from '../platform/logger.ts';
import type { RouteCatalog } from './catalog.ts';

export const PLAN_CHANNEL = 'capconduit_routing';

export function followPlanChanges(
  sql: Sql,
  catalog: RouteCatalog,
  log: Logger,
  metrics: Registry,
): { stop(): Promise<void> } {
  const failed = new Counter({
    name: 'capconduit_routing_plan_refresh_failures_total',
    help: 'Background reads of a routing plan that failed (the last plan kept serving)',
    registers: [metrics],
  });
  let refreshFailing = false;
  catalog.onRefreshError = (did, err) => {
    failed.inc();
    // Once per outage, not once per call.
    if (!refreshFailing)
      log.warn({ did, err: (err as Error).message }, 'routing plan refresh failed; serving the last plan');
    refreshFailing = true;
  };
  catalog.onRefreshOk = () => {
    if (refreshFailing) log.info('routing plan refresh works again');
    refreshFailing = false;
  };
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let unlisten: (() => Promise<void>) | null = null;
  const listen = () => {
    sql
      .listen(
        PLAN_CHANNEL,
        () => catalog.invalidate(),
        () => catalog.invalidate(),
      )
      .then(
        (l) => {
          unlisten = l.unlisten;
          if (stopped) void l.unlisten().catch(() => {});
        },
        (err: unknown) => {
          // PostgreSQL unreachable at start: plans still expire by their TTL; try again.
          log.warn({ err: (err as Error).message }, 'cannot listen for routing plan changes; retrying');
          if (!stopped) timer = setTimeout(listen, 5000);
          timer?.unref();
        },
      );
  };
  listen();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await unlisten?.().catch(() => {});
    },
  };
}
