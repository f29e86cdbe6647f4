import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/platform/http/errors.ts';
import { constraintError, mapDbError, pgError } from '../../src/platform/pg-errors.ts';

// What postgres.js throws (fields of the PostgreSQL error), bare or wrapped by drizzle as `cause`.
const pg = (code: string, constraint_name?: string) =>
  Object.assign(new Error('pg'), { code, constraint_name });
const wrapped = (cause: Error) =>
  Object.assign(new Error('Failed query: insert ... params: secret'), { cause });

describe('PostgreSQL errors -> API errors', () => {
  it('reads code and constraint from a bare or a drizzle-wrapped error', () => {
    expect(pgError(pg('23505', 'sellers_name_uq'))).toEqual({ code: '23505', constraint: 'sellers_name_uq' });
    expect(pgError(wrapped(pg('23503', 'dids_seller_fk')))).toEqual({
      code: '23503',
      constraint: 'dids_seller_fk',
    });
    expect(pgError(new Error('not PostgreSQL'))).toEqual({});
    expect(pgError(null)).toEqual({});
  });

  it('maps unique, foreign-key and check violations to their codes, and nothing else', () => {
    const cases = [
      ['23505', 'DUPLICATE', 409],
      ['23503', 'IN_USE', 409],
      ['23514', 'VALIDATION_FAILED', 400],
    ] as const;
    for (const [code, api, status] of cases) {
      const e = constraintError(wrapped(pg(code, 'c1')), 'seller');
      expect(e).toBeInstanceOf(AppError);
      expect([e!.code, e!.statusCode]).toEqual([api, status]);
      // The message names the row, never the query (whose parameters may hold secrets).
      expect(e!.message).not.toContain('secret');
    }
    expect(constraintError(wrapped(pg('40001')), 'seller')).toBeNull();
  });

  it('mapDbError re-throws what it does not map, unchanged', () => {
    const other = wrapped(pg('57014'));
    expect(() => mapDbError(other, 'seller')).toThrow(other);
    expect(() => mapDbError(pg('23505', 'x'), 'seller')).toThrow(/seller already exists/);
  });
});
