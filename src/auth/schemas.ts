// API key requests and answers (zod), shared by /v1/api-keys and the console's API keys page.
import { z } from 'zod';
import { API_ROLES, type apiKeys } from '../db/schema/auth.ts';
import { AppError } from '../platform/http/errors.ts';
import { parseCidr } from './cidr.ts';

const cidr = z.string().transform((s, ctx) => {
  const n = parseCidr(s);
  if (!n) ctx.addIssue({ code: 'custom', message: `"${s}" is not an IP address or CIDR` });
  return n ?? s;
});

export const keyRateLimit = z
  .number()
  .int()
  .min(0)
  .max(10_000_000)
  .nullable()
  .meta({ description: "requests a minute (null: the role's default; 0: no limit)", example: 600 });

export const keyCreateBody = z
  .object({
    role: z.enum(API_ROLES),
    seller_id: z.uuid().optional(),
    allow_ips: z.array(cidr).max(100).default([]),
    label: z.string().max(200).optional(),
    rate_limit_per_min: keyRateLimit.optional(),
  })
  .strict();
export type KeyCreate = z.infer<typeof keyCreateBody>;

/** A seller key names its seller; no other key does. */
export function assertKeyScope(b: { role: string; seller_id?: string | undefined }): void {
  if (b.role === 'seller' && !b.seller_id)
    throw new AppError('VALIDATION_FAILED', 'a seller key needs seller_id', [
      { path: 'seller_id', message: 'required for role seller' },
    ]);
  if (b.role !== 'seller' && b.seller_id)
    throw new AppError('VALIDATION_FAILED', 'only seller keys take seller_id', [
      { path: 'seller_id', message: 'only for role seller' },
    ]);
}

/** What createApiKey takes, from a key's request body (the API's, or the console's form). */
export const keyInput = (b: KeyCreate) => ({
  role: b.role,
  sellerId: b.seller_id ?? null,
  allowIps: b.allow_ips,
  label: b.label ?? null,
  rateLimitPerMin: b.rate_limit_per_min ?? null,
});

export const keyOut = z.object({
  id: z.uuid(),
  prefix: z.string(),
  role: z.enum(API_ROLES),
  seller_id: z.uuid().nullable(),
  allow_ips: z.array(z.string()),
  label: z.string().nullable(),
  rate_limit_per_min: z.number().int().nullable().meta({
    description: "requests a minute this key may make (null: its role's default; 0: no limit)",
  }),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});

/** A key as the API shows it (never its secret or hash). */
export const toKeyOut = (r: typeof apiKeys.$inferSelect) => ({
  id: r.id,
  prefix: r.prefix,
  role: r.role,
  seller_id: r.sellerId,
  allow_ips: r.allowIps,
  label: r.label,
  rate_limit_per_min: r.rateLimitPerMin,
  created_at: r.createdAt.toISOString(),
  revoked_at: r.revokedAt?.toISOString() ?? null,
});
