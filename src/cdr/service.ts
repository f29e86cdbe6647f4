// Reading call records, for the API (/v1/calls, keyset pages) and the console (pages at an offset in
// a chosen order, with names): both see a seller's calls only through `sellerId`, and both export
// CSV with the same columns and the same escaping.
import type { Db } from '../platform/db.ts';
import {
  type CallFilter,
  type CallRecordView,
  type CallSort,
  getCall,
  listCalls,
  pageCalls,
  withRent,
} from './repository.ts';
import { toCallRecord } from './schemas.ts';

export const CSV_COLS = [
  'call_id',
  'started_at',
  'answered_at',
  'ended_at',
  'did',
  'caller_number',
  'seller_id',
  'seller_name',
  'campaign_id',
  'campaign_name',
  'client_id',
  'client_name',
  'link_id',
  'disposition',
  'hangup_cause',
  'duration_s',
  'talk_s',
  'billable_s',
  'converted',
  'payout_micros',
  'revenue_micros',
  'cost_micros',
  'rent_micros',
  'margin_micros',
  'default_route',
  'end_reason',
  'handed_off_at',
  'short_answer',
  'attempts',
  'not_routed',
  'recording_name',
  'recording_s',
  'recording_deleted_at',
  'node_id',
  'did_id',
] as const;

/**
 * A record's CSV cells: the JSON's fields, with its lists made flat — `attempts` is how many clients
 * were tried, `not_routed` is `<link_id>:<reason>` per link joined by `;`, and `short_answer` says
 * whether revenue recovery sent the caller on after a client's short answer.
 */
function csvRecord(r: CallRecordView, staff: boolean): Record<(typeof CSV_COLS)[number], unknown> {
  const rec = toCallRecord(r, staff);
  return {
    ...rec,
    attempts: rec.attempts.length,
    not_routed: rec.not_routed.map((x) => `${x.link_id}:${x.reason}`).join(';'),
    short_answer: rec.attempts.some((a) => a.short_answer === true),
  };
}

export const csvCell = (v: unknown) => {
  // A number is never a formula: a negative margin stays a number a spreadsheet can add up.
  if (typeof v === 'number') return String(v);
  const s = v === null || v === undefined ? '' : String(v);
  // Quote, and defuse spreadsheet formulas in caller-supplied text.
  const safe = /^[=+\-@]/.test(s) && !/^\+\d+$/.test(s) ? `'${s}` : s;
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** Call records as CSV: a header line, one line per call, a final newline (revenue, cost, rent, margin to staff). */
export function callsCsv(rows: CallRecordView[], staff = true): string {
  const lines = [
    CSV_COLS.join(','),
    ...rows.map((r) => {
      const rec = csvRecord(r, staff);
      return CSV_COLS.map((k) => csvCell(rec[k])).join(',');
    }),
  ];
  return `${lines.join('\n')}\n`;
}

export class CallsService {
  constructor(private readonly db: Db) {}

  /** One call by id; a seller's scope hides other sellers' calls (null, as for an unknown id). */
  get(callId: string, sellerId?: string | null) {
    return getCall(this.db, callId, sellerId);
  }

  /** One call by id with its rent share (the console's call page); null as for `get`. */
  async one(callId: string, sellerId?: string | null): Promise<CallRecordView | null> {
    const row = await getCall(this.db, callId, sellerId);
    return row ? ((await withRent(this.db, [row]))[0] ?? null) : null;
  }

  /** Newest first, strictly older than `before`: the API's keyset pages, with each call's rent share. */
  async list(f: CallFilter): Promise<CallRecordView[]> {
    return withRent(this.db, await listCalls(this.db, f));
  }

  /** One page at an offset in the given order, with names, rent shares, and the total. */
  async page(
    f: Omit<CallFilter, 'before' | 'limit'>,
    p: { sort: CallSort; dir: 'asc' | 'desc'; limit: number; offset: number },
  ) {
    const page = await pageCalls(this.db, f, p);
    return { ...page, items: await withRent(this.db, page.items) };
  }
}
