// Zod schemas of the console's own forms. Forms arrive url-encoded: every value is a string and an
// empty field means "not given".
import { z } from 'zod';
import { CONSOLE_ROLES } from '../db/schema/console.ts';

const blankToUndefined = (v: unknown) => (v === '' ? undefined : v);

export const email = z.string().trim().toLowerCase().max(254).pipe(z.email());
/** Long enough to resist guessing, short enough that hashing it costs nothing unusual. */
export const newPassword = z.string().min(12, 'at least 12 characters').max(200);

export const signInBody = z.object({
  email: z.string().trim().toLowerCase().max(254),
  password: z.string().max(200),
});

export const totpBody = z.object({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, 'six digits'),
});

export const userCreateBody = z
  .object({
    email,
    password: newPassword,
    role: z.enum(CONSOLE_ROLES),
    seller_id: z.preprocess(blankToUndefined, z.uuid().optional()),
  })
  .superRefine((v, ctx) => {
    if (v.role === 'seller' && !v.seller_id)
      ctx.addIssue({ code: 'custom', path: ['seller_id'], message: 'a seller user needs a seller' });
    if (v.role !== 'seller' && v.seller_id)
      ctx.addIssue({
        code: 'custom',
        path: ['seller_id'],
        message: 'only seller users are bound to a seller',
      });
  });
export type UserCreate = z.infer<typeof userCreateBody>;

export const userUpdateBody = z.object({
  role: z.enum(CONSOLE_ROLES),
  seller_id: z.preprocess(blankToUndefined, z.uuid().optional()),
  disabled: z.preprocess((v) => v === 'on' || v === 'true' || v === true, z.boolean()),
});

export const passwordChangeBody = z.object({ current: z.string().max(200), password: newPassword });

export const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
