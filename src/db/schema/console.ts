import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { sellers } from './routing.ts';

// People who sign in to the web console. Separate from API keys: a person has a password (argon2id)
// and may add a TOTP second factor; `viewer` reads everything staff reads and changes nothing.
// The API's `dialer` role is for machines and has no console counterpart.
export const CONSOLE_ROLES = ['admin', 'staff', 'seller', 'viewer'] as const;
export type ConsoleRole = (typeof CONSOLE_ROLES)[number];

export const consoleUsers = pgTable(
  'console_users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    // Stored lower-cased: one person, one account, whatever case they type.
    email: text('email').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: CONSOLE_ROLES }).notNull(),
    sellerId: uuid('seller_id').references(() => sellers.id),
    // The TOTP secret, sealed with MASTER_KEY (AES-256-GCM); null until the user confirms a code.
    totpSecret: text('totp_secret'),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
    lastSignInAt: timestamp('last_sign_in_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('console_users_seller_idx').on(t.sellerId),
    check('console_users_email_lower_ck', sql`${t.email} = lower(${t.email})`),
    // A seller user is bound to exactly one seller; nobody else is bound to any.
    check('console_users_seller_ck', sql`(${t.role} = 'seller') = (${t.sellerId} is not null)`),
  ],
);
