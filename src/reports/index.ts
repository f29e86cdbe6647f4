// The `reports` daemon module: call reports over the rollups the CDR writer keeps (src/reports/rollup.ts).
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { reportRoutes } from './routes/calls.ts';
import { ReportsService } from './service.ts';

export interface ReportsModule extends DaemonModule {
  name: 'reports';
  service: ReportsService;
}

export function createReportsModule(ctx: DaemonContext): ReportsModule {
  const service = new ReportsService(ctx.database.sql);
  return { name: 'reports', service, routes: [reportRoutes(service)] };
}
