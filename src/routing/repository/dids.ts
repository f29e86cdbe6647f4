// DIDs: list (by seller, by campaign), read within a seller, write, delete.
import { and, desc, eq, exists, isNotNull, isNull, like, notExists, type SQL } from 'drizzle-orm';
import { provisionedNumbers } from '../../db/schema/provisioning.ts';
import { dids } from '../../db/schema/routing.ts';
import { type Db, listPage } from '../../platform/db.ts';
import { type DidRow, type Page, orderOf, type Q, type Values } from './common.ts';

export const DID_SORTS = { number: dids.number, active: dids.active, created_at: dids.createdAt };

export interface DidFilter extends Page {
  sellerId?: string | null | undefined;
  campaignId?: string | undefined;
  /** Routed to a campaign (true) or to none (false). */
  routed?: boolean | undefined;
  /** Switched on (true) or off (false). */
  active?: boolean | undefined;
  /** Digits the number contains (the caller typed part of it). */
  digits?: string | undefined;
  /** Held at this provider account (bought through it and not released); `manual`: held at none. */
  account?: string | undefined;
}

/** The DIDs the filter matches, in the order asked (newest first unless asked), one page. */
export function listDids(db: Db, f: DidFilter) {
  const where: SQL[] = [];
  if (f.sellerId) where.push(eq(dids.sellerId, f.sellerId));
  if (f.campaignId) where.push(eq(dids.campaignId, f.campaignId));
  if (f.routed !== undefined) where.push(f.routed ? isNotNull(dids.campaignId) : isNull(dids.campaignId));
  if (f.active !== undefined) where.push(eq(dids.active, f.active));
  // Digits only, so no LIKE wildcard can reach the pattern.
  if (f.digits) where.push(like(dids.number, `%${f.digits.replace(/\D/g, '')}%`));
  if (f.account) {
    const held = (extra: SQL | undefined) =>
      db
        .select({ one: provisionedNumbers.id })
        .from(provisionedNumbers)
        .where(and(eq(provisionedNumbers.didId, dids.id), eq(provisionedNumbers.status, 'owned'), extra));
    where.push(
      f.account === 'manual'
        ? notExists(held(undefined))
        : exists(held(eq(provisionedNumbers.providerAccountId, f.account))),
    );
  }
  return listPage(db, dids, {
    where: where.length ? and(...where) : undefined,
    orderBy: orderOf(DID_SORTS, dids.id, f.order, [desc(dids.createdAt), desc(dids.id)]),
    limit: f.limit,
    offset: f.offset,
  });
}

/** A DID, within one seller when `scope` is given. */
export async function did(db: Db, id: string, scope: string | null): Promise<DidRow | null> {
  const where: SQL[] = [eq(dids.id, id)];
  if (scope) where.push(eq(dids.sellerId, scope));
  const [r] = await db
    .select()
    .from(dids)
    .where(and(...where));
  return r ?? null;
}

export async function insertDid(db: Q, v: typeof dids.$inferInsert): Promise<DidRow> {
  const [r] = await db.insert(dids).values(v).returning();
  return r!;
}

export async function updateDid(db: Q, id: string, v: Values<typeof dids>): Promise<DidRow> {
  const [r] = await db.update(dids).set(v).where(eq(dids.id, id)).returning();
  return r!;
}

export async function deleteDid(db: Q, id: string): Promise<void> {
  await db.delete(dids).where(eq(dids.id, id));
}
