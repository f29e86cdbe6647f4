// The one map from PostgreSQL errors to API errors. drizzle wraps the driver's error (the
// PostgreSQL fields are on `cause`); postgres.js used directly throws it bare: both are read here.
import { AppError } from './http/errors.ts';

export interface PgErrorFields {
  /** SQLSTATE, e.g. 23505 (unique_violation). */
  code?: string;
  constraint?: string;
}

/** The PostgreSQL error behind a (drizzle or postgres.js) error: its code and constraint, if any. */
export function pgError(e: unknown): PgErrorFields {
  const c = (e as { cause?: unknown } | null)?.cause ?? e;
  const x = (c ?? {}) as { code?: unknown; constraint_name?: unknown };
  return {
    ...(typeof x.code === 'string' ? { code: x.code } : {}),
    ...(typeof x.constraint_name === 'string' ? { constraint: x.constraint_name } : {}),
  };
}

export const isUniqueViolation = (e: unknown) => pgError(e).code === '23505';

/** postgres.js's own codes for a connection that could not be made or was lost, and the socket's. */
const CONNECTION_CODES = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
]);

/**
 * Whether `e` says PostgreSQL is not answering (refused, lost or shutting down: SQLSTATE class 08,
 * 57P01-57P03), rather than refusing what was asked: a moment later the same request may work.
 */
export function isPgUnavailable(e: unknown): boolean {
  const { code } = pgError(e);
  if (!code) return false;
  return CONNECTION_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
}

/**
 * A constraint violation as the API error it means (`what` names the row in the message), or null
 * when `e` is not one: unique -> DUPLICATE, foreign key -> IN_USE, check -> VALIDATION_FAILED.
 */
export function constraintError(e: unknown, what: string): AppError | null {
  const { code, constraint } = pgError(e);
  if (code === '23505') return new AppError('DUPLICATE', `${what} already exists`, { constraint });
  if (code === '23503') return new AppError('IN_USE', `${what} is referenced by other rows`, { constraint });
  if (code === '23514')
    return new AppError('VALIDATION_FAILED', `${what} violates ${constraint ?? 'a check'}`);
  return null;
}

/** Throws the API error a constraint violation means; anything else is re-thrown as it is. */
export function mapDbError(e: unknown, what: string): never {
  throw constraintError(e, what) ?? e;
}
