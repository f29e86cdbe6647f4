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
