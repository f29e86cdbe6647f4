// Console users: creation, sign-in decisions, TOTP, role changes. Used by the console's routes and by
// `capconduit create-user`; no HTTP here.
import { hash, verify } from '@node-rs/argon2';
import { AppError, notFound } from '../platform/http/errors.ts';
import type { ConsoleRole } from '../db/schema/console.ts';
import type { Attempt, Lockout } from './lockout.ts';
import type { ConsoleRepository, ConsoleUserRow } from './repository.ts';
import { type UserCreate, userCreateBody } from './schemas.ts';
import type { SessionStore } from './sessions.ts';
import { matchingStep, seal, type TotpReplayGuard, unseal } from './totp.ts';

// OWASP's argon2id minimum (19 MiB, 2 passes, 1 lane): ~70 ms a hash on one core here.
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

/** The person behind a console session, as the pages and services see them. */
export interface ConsoleUser {
  id: string;
  email: string;
  role: ConsoleRole;
  sellerId: string | null;
  totp: boolean;
}

export const toUser = (r: ConsoleUserRow): ConsoleUser => ({
  id: r.id,
  email: r.email,
  role: r.role,
  sellerId: r.sellerId,
  totp: r.totpSecret !== null,
});

export type SignInResult =
  | { kind: 'ok'; user: ConsoleUser }
  | { kind: 'totp'; user: ConsoleUser }
  | { kind: 'wait'; ms: number }
  | { kind: 'bad' };

export class ConsoleUsers {
  /** Verified against when the email is unknown, so both answers take as long. */
  private dummy: Promise<string> | null = null;

  constructor(
    readonly repo: ConsoleRepository,
    private masterKey: Buffer,
    readonly lockout: Lockout,
    readonly sessions: SessionStore,
    private totpGuard: TotpReplayGuard,
  ) {}

  async create(input: UserCreate): Promise<ConsoleUser> {
    const v = userCreateBody.parse(input);
    if (v.seller_id) await this.boundSellerLive(v.seller_id);
    const row = await this.repo.insert({
      email: v.email,
      passwordHash: await hashPassword(v.password),
      role: v.role,
      sellerId: v.seller_id ?? null,
    });
    return toUser(row);
  }

  /** A seller a user may be bound to and sign in for: one that exists and is not archived. */
  private async boundSellerLive(id: string) {
    const archived = await this.repo.sellerArchived(id);
    if (archived === null) throw notFound('seller', id);
    if (archived) throw new AppError('SELLER_ARCHIVED', `seller ${id} is archived: restore it first`);
  }

  async get(id: string): Promise<ConsoleUser | null> {
    const r = await this.repo.byId(id);
    return r && !r.disabledAt ? toUser(r) : null;
  }

  /**
   * Judges email + password under the failure delays. The password is hashed even for an unknown
   * email, and a refused attempt (still waiting) checks nothing and counts nothing.
   */
  async signIn(email: string, password: string, a: Attempt): Promise<SignInResult> {
    const ms = await this.lockout.wait(a);
    if (ms > 0) return { kind: 'wait', ms };
    const row = await this.repo.byEmail(email);
    this.dummy ??= hashPassword('not a password of anyone');
    const ok = await verify(row?.passwordHash ?? (await this.dummy), password).catch(() => false);
    if (!row || !ok || row.disabledAt) {
      await this.lockout.fail(a);
      return { kind: 'bad' };
    }
    return { kind: row.totpSecret ? 'totp' : 'ok', user: toUser(row) };
  }

  /** The second step: a TOTP code of a user whose password was right a moment ago. */
  async checkTotp(userId: string, code: string, a: Attempt): Promise<SignInResult> {
    const ms = await this.lockout.wait(a);
    if (ms > 0) return { kind: 'wait', ms };
    const row = await this.repo.byId(userId);
    if (!row || row.disabledAt || !row.totpSecret) return { kind: 'bad' };
    const step = matchingStep(unseal(this.masterKey, row.totpSecret), code);
    if (step === null || !(await this.totpGuard.take(row.id, step))) {
      await this.lockout.fail(a);
      return { kind: 'bad' };
    }
    return { kind: 'ok', user: toUser(row) };
  }

  /**
   * Asked again before a sensitive change: the signed-in user's password, and a current code when the
   * user has TOTP on (a step already used does not count), under the same failure delays as a sign-in.
   */
  async reauthenticate(userId: string, password: string, code: string, a: Attempt): Promise<void> {
    const ms = await this.lockout.wait(a);
    if (ms > 0)
      throw new AppError(
        'AUTH_RATE_LIMITED',
        'too many failed attempts: wait before trying again',
        undefined,
        {
          'retry-after': String(Math.ceil(ms / 1000)),
        },
      );
    const row = await this.repo.byId(userId);
    const passwordOk = !!row && (await verify(row.passwordHash, password).catch(() => false));
    const step = row?.totpSecret ? matchingStep(unseal(this.masterKey, row.totpSecret), code) : null;
    // A code is spent only with the right password: a wrong guess does not burn the user's code.
    const codeOk =
      !row?.totpSecret || (passwordOk && step !== null && (await this.totpGuard.take(row.id, step)));
    if (!row || row.disabledAt || !passwordOk || !codeOk) {
      await this.lockout.fail(a);
      throw new AppError(
        'REAUTH_FAILED',
        row?.totpSecret ? 'wrong password or authenticator code' : 'wrong password',
      );
    }
  }

  /** Turns TOTP on once the user proves their app holds `secret` with a current code. */
  async enableTotp(userId: string, secret: string, code: string): Promise<boolean> {
    const step = matchingStep(secret, code);
    if (step === null || !(await this.totpGuard.take(userId, step))) return false;
    await this.repo.update(userId, { totpSecret: seal(this.masterKey, secret) });
    return true;
  }

  async disableTotp(userId: string): Promise<void> {
    if (!(await this.repo.update(userId, { totpSecret: null }))) throw notFound('console user', userId);
  }

  async changePassword(userId: string, current: string, next: string, keepSession: string): Promise<boolean> {
    const row = await this.repo.byId(userId);
    if (!row) throw notFound('console user', userId);
    if (!(await verify(row.passwordHash, current).catch(() => false))) return false;
    await this.repo.update(userId, { passwordHash: await hashPassword(next) });
    // Whoever knew the old password is signed out everywhere else.
    await this.sessions.destroyAll(userId, keepSession);
    return true;
  }

  /** Role, seller binding, disabled: any change signs the user out everywhere. */
  async update(
    actorId: string,
    id: string,
    v: { role: ConsoleRole; sellerId: string | null; disabled: boolean },
  ): Promise<ConsoleUser> {
    const row = await this.repo.byId(id);
    if (!row) throw notFound('console user', id);
    if (v.role === 'seller' && !v.sellerId)
      throw new AppError('VALIDATION_FAILED', 'a seller user needs a seller');
    if (v.role !== 'seller') v.sellerId = null;
    // A user of an archived seller stays disabled until the seller is restored.
    if (v.sellerId && !v.disabled) await this.boundSellerLive(v.sellerId);
    else if (v.sellerId && (await this.repo.sellerArchived(v.sellerId)) === null)
      throw notFound('seller', v.sellerId);
    const losesAdmin = row.role === 'admin' && !row.disabledAt && (v.role !== 'admin' || v.disabled);
    if (losesAdmin && (await this.repo.activeAdmins()) <= 1)
      throw new AppError('CONFLICT', 'the last admin cannot be demoted or disabled');
    if (id === actorId && v.disabled) throw new AppError('CONFLICT', 'you cannot disable yourself');
    const r = await this.repo.update(id, {
      role: v.role,
      sellerId: v.sellerId,
      disabledAt: v.disabled ? (row.disabledAt ?? new Date()) : null,
    });
    await this.sessions.destroyAll(id);
    return toUser(r!);
  }

  async remove(actorId: string, id: string): Promise<void> {
    const row = await this.repo.byId(id);
    if (!row) throw notFound('console user', id);
    if (id === actorId) throw new AppError('CONFLICT', 'you cannot delete yourself');
    if (row.role === 'admin' && !row.disabledAt && (await this.repo.activeAdmins()) <= 1)
      throw new AppError('CONFLICT', 'the last admin cannot be deleted');
    await this.sessions.destroyAll(id);
    await this.repo.remove(id);
  }
}
