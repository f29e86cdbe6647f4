// Who may do what in the console: the API's roles, plus `viewer` (reads what staff reads, changes
// nothing). A seller user is scoped to its seller exactly as a seller API key is.
import type { ConsoleRole } from '../db/schema/console.ts';
import type { ConsoleUser } from './users.ts';

export const EVERYONE: readonly ConsoleRole[] = ['admin', 'staff', 'seller', 'viewer'];
/** Pages over every seller's rows (sellers, clients, caller IDs, PBX): not for seller users. */
export const STAFF_READ: readonly ConsoleRole[] = ['admin', 'staff', 'viewer'];
export const STAFF_WRITE: readonly ConsoleRole[] = ['admin', 'staff'];
/** Changes a seller key may make through the API (its own campaigns, DIDs and links). */
export const SELLER_WRITE: readonly ConsoleRole[] = ['admin', 'staff', 'seller'];
export const ADMIN: readonly ConsoleRole[] = ['admin'];

/** The seller whose rows the user is limited to; null for roles that see every seller. */
export function scopeOf(u: ConsoleUser): string | null {
  // A seller user without a seller (impossible by the table's check) sees nothing rather than all.
  return u.role === 'seller' ? (u.sellerId ?? '00000000-0000-0000-0000-000000000000') : null;
}

export const may = (u: ConsoleUser | null, roles: readonly ConsoleRole[]) => !!u && roles.includes(u.role);

/** How audit records name a console user (API keys are named by their own label). */
export const auditLabel = (u: ConsoleUser) => `console:${u.email}`;
