// The audit trail of routing resources, read (by the API and the console): who changed which row,
// with the row before and after. The rows are written by PostgreSQL triggers in each change's own
// transaction; src/platform/audit.ts names the actor.
import type { Db } from '../platform/db.ts';
import { type AuditFilter, auditActors, auditResources, listAudit } from './repository.ts';

export class AuditService {
  constructor(private db: Db) {}

  list(f: AuditFilter) {
    return listAudit(this.db, f);
  }

  /** The resource kinds that have records. */
  resources() {
    return auditResources(this.db);
  }

  /** The actors that have records (at most `limit`). */
  actors(limit = 500) {
    return auditActors(this.db, limit);
  }
}
