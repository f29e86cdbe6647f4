// The `audit` daemon module: the audit trail of routing resources (GET /v1/audit), and its service
// for the console.
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { auditRoutes } from './routes/audit.ts';
import { AuditService } from './service.ts';

export interface AuditModule extends DaemonModule {
  name: 'audit';
  service: AuditService;
}

export function createAuditModule(ctx: DaemonContext): AuditModule {
  const service = new AuditService(ctx.database.db);
  return { name: 'audit', service, routes: [auditRoutes(service)] };
}
