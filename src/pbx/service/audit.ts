// The PBX audit trail: every provisioning change records who did what to which endpoint, inside the
// change's own transaction when it succeeds, and on its own when it fails.
import type { Db } from '../../platform/db.ts';
import { AppError } from '../../platform/http/errors.ts';
import type { Logger } from '../../platform/logger.ts';
import { pgError } from '../../platform/pg-errors.ts';
import { type AuditFilter, insertAudit, keyLabel, listAudit, type Q } from '../repository.ts';

export interface Actor {
  keyId: string | null;
  /** Who, when not an API key (a console user: `console:<email>`). */
  label?: string | null;
}

export class PbxAudit {
  constructor(
    private db: Db,
    private log: Logger,
  ) {}

  async record(
    q: Q,
    actor: Actor,
    action: string,
    target: string | null,
    result: 'ok' | 'error',
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    const label = actor.keyId ? await keyLabel(q, actor.keyId) : (actor.label ?? null);
    await insertAudit(q, { actorKeyId: actor.keyId, actorLabel: label, action, target, result, detail });
  }

  /**
   * Records a failed change (outside the rolled-back transaction) and rethrows. An unexpected
   * database error is replaced by one that carries only its PostgreSQL code: drizzle's error message
   * lists the query's parameters, which include generated passwords, and would reach the logs.
   */
  async failed(actor: Actor, action: string, target: string | null, e: unknown): Promise<never> {
    const pg = pgError(e);
    const detail =
      e instanceof AppError
        ? { code: e.code, message: e.message }
        : { code: 'INTERNAL', message: 'internal error', ...(pg.code ? { pg_code: pg.code } : {}) };
    await this.record(this.db, actor, action, target, 'error', detail).catch(() =>
      this.log.error({ action }, 'pbx audit write failed'),
    );
    if (e instanceof AppError) throw e;
    const where = pg.code ? ` (PostgreSQL ${pg.code}${pg.constraint ? ` ${pg.constraint}` : ''})` : '';
    throw new Error(`pbx ${action} failed${where}`);
  }

  list(f: AuditFilter) {
    return listAudit(this.db, f);
  }
}
