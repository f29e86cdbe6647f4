// Every SQL of call records: the batched insert the writer runs (writer.ts journals first), and the
// reads: filtered, newest first, keyset-paged over (started_at, call_id) so pages stay stable while
// calls keep arriving; and, for the console, one page at an offset in a chosen order with the
// seller, campaign and client names.
// Why about 420 lines: it is one table's SQL (the insert with its webhook events and rollups, the
// reads and the rent shares they join), which the domain's layout keeps in its one repository.
import { and, asc, desc, eq, gte, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { callRecords, unseenCallSweeps } from '../db/schema/cdr.ts';
import { campaigns, clients, sellers } from '../db/schema/routing.ts';
import type { Sql } from 'postgres';
import { countWhere, type Db } from '../platform/db.ts';
import { OUTBOX_CHANNEL } from '../platform/outbox.ts';
import { rollupSql } from '../reports/rollup.ts';
import type { CdrRecord } from './record.ts';

export type CallRecordRow = typeof callRecords.$inferSelect;

/**
 * A record as read for the API and the console: with its share of its DID's monthly rent (micro-units,
 * fractional; see `rentShares`).
 */
export type CallRecordView = CallRecordRow & { rentMicros: number };

/** The UTC month a call's rent share is taken from (`YYYY-MM-01`, as report_did_months keys it). */
export const rentMonth = (startedAt: Date) => `${startedAt.toISOString().slice(0, 7)}-01`;

const pgTextArray = (xs: readonly string[]) =>
  `{${xs.map((x) => `"${x.replace(/["\\]/g, '\\$&')}"`).join(',')}}`;

/**
 * Each (DID, UTC month)'s rent per call, as the reports spread it: the rent the month ended with (the
 * last `did_rents` row effective before its end; today's for the current month) divided by the DID's
 * calls that month (`report_did_months`, which the CDR writer counts in the same transaction as it
 * inserts the calls). Keyed `<did>|<month>`; a pair with no rent or no calls is absent (no rent).
 */
export async function rentShares(
  db: Db,
  pairs: ReadonlyArray<{ did: string; month: string }>,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!pairs.length) return out;
  const rows = await db.execute<{ did: string; month: string; share: string }>(sql`
    select x.did, to_char(x.month, 'YYYY-MM-DD') as month, r.monthly_rent_micros::numeric / dm.calls as share
    from unnest(${pgTextArray(pairs.map((p) => p.did))}::text[], ${pgTextArray(pairs.map((p) => p.month))}::date[])
      as x(did, month)
    join report_did_months dm on dm.did = x.did and dm.month = x.month and dm.calls > 0
    cross join lateral (
      select monthly_rent_micros from did_rents
      where did = x.did and effective_from < (x.month + interval '1 month') at time zone 'UTC'
      order by effective_from desc limit 1
    ) r
    where r.monthly_rent_micros > 0`);
  for (const r of rows) out.set(`${r.did}|${r.month}`, Number(r.share));
  return out;
}

/** Rows with their rent share (one query for the whole page). */
export async function withRent<T extends CallRecordRow>(
  db: Db,
  rows: T[],
): Promise<Array<T & { rentMicros: number }>> {
  const pairs = new Map<string, { did: string; month: string }>();
  for (const r of rows) {
    if (!r.did) continue;
    const month = rentMonth(r.startedAt);
    pairs.set(`${r.did}|${month}`, { did: r.did, month });
  }
  const shares = await rentShares(db, [...pairs.values()]);
  return rows.map((r) => ({
    ...r,
    rentMicros: r.did ? (shares.get(`${r.did}|${rentMonth(r.startedAt)}`) ?? 0) : 0,
  }));
}

export interface CallFilter {
  /** Only this seller's calls (a seller key's scope). */
  sellerId?: string | null | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  campaignId?: string | undefined;
  clientId?: string | undefined;
  did?: string | undefined;
  caller?: string | undefined;
  disposition?: string | undefined;
  /** Calls strictly older than this (started_at, call_id): the previous page's last row. */
  before?: { at: Date; id: string } | undefined;
  limit: number;
}

function callWhere(f: Omit<CallFilter, 'limit'>): SQL | undefined {
  const w: SQL[] = [];
  if (f.sellerId) w.push(eq(callRecords.sellerId, f.sellerId));
  if (f.from) w.push(gte(callRecords.startedAt, f.from));
  if (f.to) w.push(lt(callRecords.startedAt, f.to));
  if (f.campaignId) w.push(eq(callRecords.campaignId, f.campaignId));
  if (f.clientId) w.push(eq(callRecords.clientId, f.clientId));
  if (f.did) w.push(eq(callRecords.did, f.did));
  if (f.caller) w.push(eq(callRecords.callerNumber, f.caller));
  if (f.disposition) w.push(eq(callRecords.disposition, f.disposition));
  if (f.before) {
    const c = f.before;
    w.push(
      or(
        lt(callRecords.startedAt, c.at),
        and(eq(callRecords.startedAt, c.at), lt(callRecords.callId, c.id)),
      )!,
    );
  }
  return w.length ? and(...w) : undefined;
}

/** One call record by id, within a seller's scope when given (another seller's call is not found). */
export async function getCall(
  db: Db,
  callId: string,
  sellerId?: string | null,
): Promise<CallRecordRow | null> {
  const w = [eq(callRecords.callId, callId)];
  if (sellerId) w.push(eq(callRecords.sellerId, sellerId));
  const [row] = await db
    .select()
    .from(callRecords)
    .where(and(...w))
    .limit(1);
  return row ?? null;
}

export function listCalls(db: Db, f: CallFilter): Promise<CallRecordRow[]> {
  return db
    .select()
    .from(callRecords)
    .where(callWhere(f))
    .orderBy(desc(callRecords.startedAt), desc(callRecords.callId))
    .limit(f.limit);
}

/** The orders a page of calls can be read in. */
export const CALL_SORTS = {
  started_at: callRecords.startedAt,
  duration: callRecords.durationS,
  billable: callRecords.billableS,
  disposition: callRecords.disposition,
  did: callRecords.did,
  caller: callRecords.callerNumber,
  seller: sellers.name,
  campaign: campaigns.name,
  client: clients.name,
} satisfies Record<string, PgColumn>;
export type CallSort = keyof typeof CALL_SORTS;

export interface NamedCallRow extends CallRecordRow {
  sellerName: string | null;
  campaignName: string | null;
  clientName: string | null;
}

/** One page of calls at an offset, in the given order (call id breaks ties), with names and the total. */
export async function pageCalls(
  db: Db,
  f: Omit<CallFilter, 'before' | 'limit'>,
  p: { sort: CallSort; dir: 'asc' | 'desc'; limit: number; offset: number },
): Promise<{ items: NamedCallRow[]; total: number }> {
  const where = callWhere(f);
  const order = p.dir === 'asc' ? asc : desc;
  const rows = await db
    .select({
      call: callRecords,
      sellerName: sellers.name,
      campaignName: campaigns.name,
      clientName: clients.name,
    })
    .from(callRecords)
    .leftJoin(sellers, eq(sellers.id, callRecords.sellerId))
    .leftJoin(campaigns, eq(campaigns.id, callRecords.campaignId))
    .leftJoin(clients, eq(clients.id, callRecords.clientId))
    .where(where)
    .orderBy(order(CALL_SORTS[p.sort]), order(callRecords.callId))
    .limit(p.limit)
    .offset(p.offset);
  const total = await countWhere(db, callRecords, where);
  return {
    items: rows.map((r) => ({
      ...r.call,
      sellerName: r.sellerName,
      campaignName: r.campaignName,
      clientName: r.clientName,
    })),
    total,
  };
}

// ---------------------------------------------------------------- retention

/**
 * Deletes up to `limit` call records that started before `before`; answers how many. One bounded
 * statement at a time, so a purge of millions of rows never holds locks or a transaction for long.
 * A record whose recording is still in Asterisk stays until the recording is deleted (else nothing
 * would remember to delete it).
 */
export async function deleteCallsBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db.execute(sql`
    delete from call_records where call_id in (
      select call_id from call_records where started_at < ${before.toISOString()}::timestamptz
        and (recording_name is null or recording_deleted_at is not null) limit ${limit}
    ) returning 1`);
  return rows.length;
}

/** Up to `limit` recordings of calls that started before `before` and are still in Asterisk, oldest first. */
export async function recordingsBefore(
  db: Db,
  before: Date,
  limit: number,
): Promise<Array<{ callId: string; nodeId: string; name: string }>> {
  const rows = await db
    .select({ callId: callRecords.callId, nodeId: callRecords.nodeId, name: callRecords.recordingName })
    .from(callRecords)
    .where(
      and(
        lt(callRecords.startedAt, before),
        sql`${callRecords.recordingName} is not null and ${callRecords.recordingDeletedAt} is null`,
      ),
    )
    .orderBy(asc(callRecords.startedAt))
    .limit(limit);
  return rows.map((r) => ({ callId: r.callId, nodeId: r.nodeId, name: r.name! }));
}

/** Records that their recordings were deleted from Asterisk. */
export async function markRecordingsDeleted(db: Db, callIds: string[], at: Date): Promise<void> {
  if (!callIds.length) return;
  await db.update(callRecords).set({ recordingDeletedAt: at }).where(inArray(callRecords.callId, callIds));
}

/** Clears the caller number of up to `limit` call records that started before `before`. */
export async function forgetCallersBefore(db: Db, before: Date, limit: number): Promise<number> {
  const rows = await db.execute(sql`
    update call_records set caller_number = null where call_id in (
      select call_id from call_records
      where started_at < ${before.toISOString()}::timestamptz and caller_number is not null limit ${limit}
    ) returning 1`);
  return rows.length;
}

// ---------------------------------------------------------------- Asterisk's own CDRs

/** One of Asterisk's records (cdr_pgsql) of a channel that was in Stasis when it ended. Times in ms. */
export interface AsteriskStasisCdr {
  uniqueid: string;
  src: string | null;
  dst: string | null;
  lastapp: string;
  lastdata: string | null;
  start: number;
  answer: number | null;
  end: number;
  disposition: string | null;
}

/** `table` or `schema.table` as a quoted identifier (the name is checked by the config). */
function tableName(table: string) {
  return sql.join(
    table.split('.').map((p) => sql.identifier(p)),
    sql.raw('.'),
  );
}

/**
 * Asterisk's records in `table` that ended in [from, to) while their channel was in one of `apps` for
 * an inbound call — `Stasis(<app>,inbound...)`, or `StasisBroadcast(<ms>,<filter>,inbound...)` — and
 * whose channel no call record of ours names as its caller; oldest end first, at most `limit`.
 * Asterisk writes its times without a zone, in UTC (cdr_pgsql's `timezone=UTC`).
 */
export async function unrecordedStasisCdrs(
  db: Db,
  table: string,
  apps: readonly string[],
  from: Date,
  to: Date,
  limit: number,
): Promise<AsteriskStasisCdr[]> {
  const rows = await db.execute<StasisCdrRow>(sql`
    select ${STASIS_CDR_COLUMNS}
      from ${tableName(table)} c
     where c."end" >= (${from.toISOString()}::timestamptz at time zone 'UTC')
       and c."end" < (${to.toISOString()}::timestamptz at time zone 'UTC')
       and ((c.lastapp = 'Stasis' and split_part(c.lastdata, ',', 2) = 'inbound'
             and split_part(c.lastdata, ',', 1) in (${sql.join(
               apps.map((a) => sql`${a}`),
               sql`, `,
             )}))
         or (c.lastapp = 'StasisBroadcast'
             and split_part(split_part(c.lastdata, ',', 3), ':', 1) = 'inbound'))
       and c.uniqueid is not null
       and not exists (select 1 from call_records r where r.caller_channel_id = c.uniqueid)
     order by c."end"
     limit ${limit}`);
  return rows.map(stasisCdr);
}

/**
 * Every record in `table` of the given channels, whatever the application they ended in: Asterisk
 * writes one per party B a channel had (a caller bridged with a second client after the first hung
 * up gets a second record, from that moment on), all at once when the channel ends.
 */
export async function cdrsOfChannels(
  db: Db,
  table: string,
  uniqueids: readonly string[],
): Promise<AsteriskStasisCdr[]> {
  if (uniqueids.length === 0) return [];
  const rows = await db.execute<StasisCdrRow>(sql`
    select ${STASIS_CDR_COLUMNS}
      from ${tableName(table)} c
     where c.uniqueid in (${sql.join(
       uniqueids.map((u) => sql`${u}`),
       sql`, `,
     )})
     order by c.uniqueid, c."end"`);
  return rows.map(stasisCdr);
}

type StasisCdrRow = Omit<AsteriskStasisCdr, 'start'> & { start: number | null };

const ms = (col: string) => sql.raw(`(extract(epoch from c.${col}) * 1000)::float8`);
const STASIS_CDR_COLUMNS = sql`c.uniqueid, c.src, c.dst, c.lastapp, c.lastdata, c.disposition,
  ${ms('start')} as start, ${ms('answer')} as answer, ${ms('"end"')} as "end"`;

const stasisCdr = (r: StasisCdrRow): AsteriskStasisCdr => ({ ...r, start: r.start ?? r.end });

/** Where the read-back of a node's Asterisk records has got (null: never read). */
export async function unseenSweptTo(db: Db, nodeId: string): Promise<Date | null> {
  const [row] = await db.select().from(unseenCallSweeps).where(eq(unseenCallSweeps.nodeId, nodeId));
  return row?.sweptTo ?? null;
}

/** Moves a node's read-back mark forward (never back: instances sweep side by side). */
export async function markUnseenSwept(db: Db, nodeId: string, to: Date): Promise<void> {
  await db
    .insert(unseenCallSweeps)
    .values({ nodeId, sweptTo: to })
    .onConflictDoUpdate({
      target: unseenCallSweeps.nodeId,
      set: { sweptTo: sql`greatest(${unseenCallSweeps.sweptTo}, excluded.swept_to)` },
    });
}

const ROLLUP_ADDED = rollupSql('select * from call_records where call_id = any($1::text[])');

/**
 * Inserts a batch of records (ON CONFLICT DO NOTHING: a replayed journal adds nothing twice), with
 * the webhook events and the report rollups of exactly the records it added, in one transaction.
 */
export async function insertCallRecords(pg: Sql, rows: CdrRecord[]): Promise<void> {
  if (!rows.length) return;
  const values = rows.map((r) => ({
    ...r,
    attempts: JSON.stringify(r.attempts),
    not_routed: JSON.stringify(r.not_routed ?? []),
    link_id: r.link_id ?? null,
    did_id: r.did_id ?? null,
    seller_name: r.seller_name ?? null,
    campaign_name: r.campaign_name ?? null,
    client_name: r.client_name ?? null,
    talk_s: r.talk_s ?? r.billable_s,
    converted: r.converted ?? false,
    payout_micros: r.payout_micros ?? 0,
    revenue_micros: r.revenue_micros ?? 0,
    cost_micros: r.cost_micros ?? 0,
    default_route: r.default_route ?? null,
    end_reason: r.end_reason ?? null,
    handed_off_at: r.handed_off_at ?? null,
    recording_name: r.recording_name ?? null,
    recording_s: r.recording_s ?? null,
    caller_channel_id: r.caller_channel_id ?? null,
  }));
  // The records and their postbacks commit together: each record inserted now (not one a replayed
  // journal had inserted before) becomes a `call.completed` event for every subscription that wants
  // it, its seller's own and staff ones (the webhook outbox, src/platform/outbox.ts). The event id is
  // derived from the call id, so a receiver can deduplicate on it.
  // The report rollups count, in the same transaction, exactly the records inserted now.
  await pg.begin(async (tx) => {
    const [r] = await tx`
    with ins as (
    insert into call_records ${tx(
      values,
      'call_id',
      'node_id',
      'seller_id',
      'campaign_id',
      'did',
      'caller_number',
      'client_id',
      'started_at',
      'answered_at',
      'ended_at',
      'duration_s',
      'billable_s',
      'disposition',
      'hangup_cause',
      'attempts',
      'not_routed',
      'link_id',
      'did_id',
      'seller_name',
      'campaign_name',
      'client_name',
      'talk_s',
      'converted',
      'payout_micros',
      'revenue_micros',
      'cost_micros',
      'default_route',
      'end_reason',
      'handed_off_at',
      'recording_name',
      'recording_s',
      'caller_channel_id',
    )}
    on conflict (call_id) do nothing
    returning *),
    ev as (
    insert into webhook_deliveries (subscription_id, event_id, event, payload)
    select s.id, md5('call.completed:' || ins.call_id)::uuid, 'call.completed',
           jsonb_build_object('id', md5('call.completed:' || ins.call_id)::uuid, 'type', 'call.completed',
             'created_at', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
             'data', to_jsonb(ins) - 'recorded_at' - 'caller_channel_id')
      from ins join webhook_subscriptions s
        on s.active and 'call.completed' = any(s.events)
       and (s.seller_id is null or s.seller_id = ins.seller_id)
    on conflict do nothing
    returning 1)
    select (select count(*)::int from ev) as n, (select array_agg(call_id) from ins) as added`;
    if (r?.n) await tx`select pg_notify(${OUTBOX_CHANNEL}, '')`;
    if (r?.added?.length) await tx.unsafe(ROLLUP_ADDED, [r.added as string[]]);
  });
}
