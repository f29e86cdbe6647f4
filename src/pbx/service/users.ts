// PBX users: a person with an extension, registered as the endpoint named by that extension.
import type { Db } from '../../platform/db.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { isUniqueViolation, pgError } from '../../platform/pg-errors.ts';
import { lowestFreeExtension } from '../allocate.ts';
import * as repo from '../repository.ts';
import type { UserRecord } from '../repository.ts';
import { userCallerId } from '../realtime.ts';
import { registrationRows } from '../rows.ts';
import { generatePassword } from '../secrets.ts';
import type { Actor, PbxAudit } from './audit.ts';
import { defaultsIn, type PbxSettings } from './settings.ts';

/** Constraints a new endpoint name can hit when the name is taken in Asterisk's tables or ours. */
const ENDPOINT_NAME_CONSTRAINTS = new Set([
  'ps_endpoints_id_key',
  'ps_auths_id_key',
  'ps_aors_id_key',
  'ps_endpoint_id_ips_id_key',
  'pbx_endpoints_endpoint_uq',
]);

export class UserService {
  /** Extension races lost and retried since start (for tests and the benchmark). */
  retries = 0;

  constructor(
    private db: Db,
    private s: PbxSettings,
    private audit: PbxAudit,
  ) {}

  /**
   * Creates a user on the lowest free extension. The unique index on pbx_users.extension (and the
   * endpoint name in ps_*) is what guarantees two users never share one: a creation that loses a
   * race gets a unique violation, reads the used extensions again and retries. A transaction-scoped
   * advisory lock makes creations queue instead of racing in the common case, so 50 at once do not
   * cost 50 rounds of retries.
   */
  async create(
    actor: Actor,
    b: { name: string; email: string },
  ): Promise<{ user: UserRecord; credentials: { username: string; password: string } }> {
    const action = 'user.create';
    const email = b.email.trim().toLowerCase();
    const { extensionMin: min, extensionMax: max } = this.s;
    const exhausted = () => new AppError('EXTENSION_RANGE_EXHAUSTED', `no free extension in ${min}-${max}`);
    const password = generatePassword();
    // Extensions whose endpoint name turned out to be taken in Asterisk's tables (a stale row).
    const blocked: number[] = [];
    let tried: number | null = null;
    for (let attempt = 0; attempt < max - min + 50; attempt++) {
      try {
        const user = await this.db.transaction(async (tx) => {
          await repo.lockExtensions(tx);
          const ext = lowestFreeExtension([...(await repo.usedExtensions(tx)), ...blocked], min, max);
          if (ext === null) throw exhausted();
          tried = ext;
          const id = String(ext);
          const u = await repo.insertUser(tx, { name: b.name, email, extension: ext });
          const rows = registrationRows(
            id,
            { username: id, password },
            {},
            {},
            defaultsIn(this.s, this.s.userContext),
            {
              callerid: userCallerId(b.name, id),
            },
          );
          await repo.writeRows(tx, rows);
          await repo.insertEndpoint(tx, { endpoint: id, kind: 'user', userId: u.id, username: id });
          await this.audit.record(tx, actor, action, id, 'ok', { user_id: u.id, email, extension: ext });
          return u;
        });
        return { user, credentials: { username: String(user.extension), password } };
      } catch (e) {
        if (!isUniqueViolation(e)) return this.audit.failed(actor, action, email, e);
        const c = pgError(e).constraint ?? '';
        if (c === 'pbx_users_email_uq')
          return this.audit.failed(
            actor,
            action,
            email,
            new AppError('DUPLICATE', `a user with email ${email} exists`),
          );
        if (c !== 'pbx_users_extension_uq' && !ENDPOINT_NAME_CONSTRAINTS.has(c))
          return this.audit.failed(actor, action, email, e);
        if (c !== 'pbx_users_extension_uq' && tried !== null) blocked.push(tried);
        this.retries++;
        // Lost the race for this extension: try again with fresh data.
      }
    }
    return this.audit.failed(
      actor,
      action,
      email,
      new AppError('CONFLICT', 'could not allocate an extension, try again'),
    );
  }

  /** Filtered, ordered and paged in the query (see `repo.listUsers`). */
  list(f: repo.UserFilter) {
    return repo.listUsers(this.db, f);
  }

  get(id: string): Promise<UserRecord | null> {
    return repo.user(this.db, id);
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const action = 'user.delete';
    const u = await this.get(id);
    if (!u) return this.audit.failed(actor, action, id, notFound('user', id));
    try {
      await this.db.transaction(async (tx) => {
        const ext = String(u.extension);
        await repo.deleteRows(tx, ext);
        await repo.deleteUser(tx, id);
        await this.audit.record(tx, actor, action, ext, 'ok', {
          user_id: id,
          email: u.email,
          extension: u.extension,
        });
      });
    } catch (e) {
      return this.audit.failed(actor, action, String(u.extension), e);
    }
  }
}
