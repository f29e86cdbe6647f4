// Reading call records, for the API (/v1/calls, keyset pages) and the console (pages at an offset in
// a chosen order, with names): both see a seller's calls only through `sellerId`, and both export
// CSV with the same columns and the same escaping.
import type { Db } from '../platform/db.ts';
import {
  type CallFilter,
  type CallRecordRow,
  type CallSort,
  getCall,
  listCalls,
  pageCalls,
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
  'default_route',
  'end_reason',
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
function csvRecord(r: CallRecordRow, staff: boolean): Record<(typeof CSV_COLS)[number], unknown> {
  const rec = toCallRecord(r, staff);
  return {
    ...rec,
    attempts: rec.attempts.length,
    not_routed: rec.not_routed.map((x) => `${x.link_id}:${x.reason}`).join(';'),
    short_answer: rec.attempts.some((a) => a.short_answer === true),
  };
}

export const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  // Quote, and defuse spreadsheet formulas in caller-supplied text.
  const safe = /^[=+\-@]/.test(s) && !/^\+\d+$/.test(s) ? `'${s}` : s;
  return /[",\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
};

/** Call records as CSV: a header line, one line per call, a final newline (revenue and cost to staff). */
export function callsCsv(rows: CallRecordRow[], staff = true): string {
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

  /** Newest first, strictly older than `before`: the API's keyset pages. */
  list(f: CallFilter) {
    return listCalls(this.db, f);
  }

  /** One page at an offset in the given order, with seller, campaign and client names, and the total. */
  page(
    f: Omit<CallFilter, 'before' | 'limit'>,
    p: { sort: CallSort; dir: 'asc' | 'desc'; limit: number; offset: number },
  ) {
    return pageCalls(this.db, f, p);
  }
}
