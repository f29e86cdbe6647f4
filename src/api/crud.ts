// Small shared pieces of the CRUD resources: pagination, PostgreSQL error mapping, seller scope.
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from './errors.ts';

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
export type PageQuery = z.infer<typeof pageQuery>;

export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), limit: z.number(), offset: z.number(), total: z.number() });

export const idParams = z.object({ id: z.uuid() });

/** PostgreSQL constraint errors as API errors; anything else is re-thrown. */
export function mapDbError(e: unknown, what: string): never {
  const code = (e as { code?: string }).code ?? (e as { cause?: { code?: string } }).cause?.code;
  const cause =
    (e as { cause?: { constraint_name?: string; detail?: string } }).cause ??
    (e as { constraint_name?: string; detail?: string });
  if (code === '23505')
    throw new AppError('DUPLICATE', `${what} already exists`, { constraint: cause.constraint_name });
  if (code === '23503')
    throw new AppError('IN_USE', `${what} is referenced by other rows`, {
      constraint: cause.constraint_name,
    });
  if (code === '23514')
    throw new AppError('VALIDATION_FAILED', `${what} violates ${cause.constraint_name ?? 'a check'}`);
  throw e;
}

/** The seller a seller key is bound to; null for staff/admin (who see every seller). */
export function scopeOf(req: FastifyRequest): string | null {
  return req.principal?.role === 'seller'
    ? (req.principal.sellerId ?? '00000000-0000-0000-0000-000000000000')
    : null;
}

export const STAFF = ['admin', 'staff'] as const;
export const STAFF_OR_SELLER = ['admin', 'staff', 'seller'] as const;
