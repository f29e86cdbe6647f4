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
] as const;

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
      const rec = toCallRecord(r, staff);
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
