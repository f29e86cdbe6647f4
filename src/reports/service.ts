// The call report without HTTP: a period in one zone, read from the rollups at the coarsest grain that
// fits (periods.ts), grouped by one dimension, with rates, averages and money derived (schemas.ts).
import type { Sql } from 'postgres';
import { csvCell } from '../cdr/service.ts';
import { AppError } from '../platform/http/errors.ts';
import { DAY, isQuarterAligned, parseBound, readPlan } from './periods.ts';
import { type Dimension, RENT_DIMENSIONS, rentByKey, type SumRow, sums } from './repository.ts';
import { CSV_COLS, figuresOf, type ReportOut, type ReportQuery } from './schemas.ts';

/** The longest period a report covers, and the longest grouped by hour (rows the answer carries). */
export const MAX_PERIOD_DAYS = 400;
export const MAX_HOURLY_DAYS = 93;

const bad = (path: string, message: string) =>
  new AppError('VALIDATION_FAILED', `${path}: ${message}`, [{ path, message }]);

/** The period as instants; 400 VALIDATION_FAILED with the field named when it is not a usable one. */
export function periodOf(q: Pick<ReportQuery, 'from' | 'to' | 'tz' | 'group_by'>): {
  from: number;
  to: number;
} {
  const from = parseBound(q.from, q.tz);
  const to = parseBound(q.to, q.tz);
  for (const [path, v] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (v === null)
      throw bad(path, 'a date YYYY-MM-DD, a local time YYYY-MM-DDTHH:MM, or an instant with its offset');
    if (!isQuarterAligned(v))
      throw bad(path, 'must fall on a quarter-hour (calls are kept per quarter-hour)');
    if (v < Date.UTC(2000, 0, 1) || v > Date.UTC(2200, 0, 1)) throw bad(path, 'out of range');
  }
  if (to! <= from!) throw bad('to', 'must be after from');
  const days = (to! - from!) / DAY;
  if (days > MAX_PERIOD_DAYS) throw bad('to', `a report covers at most ${MAX_PERIOD_DAYS} days`);
  if (q.group_by === 'hour' && days > MAX_HOURLY_DAYS)
    throw bad('to', `a report by hour covers at most ${MAX_HOURLY_DAYS} days`);
  return { from: from!, to: to! };
}

export class ReportsService {
  constructor(private readonly sql: Sql) {}

  /** The report; `scope` (a seller's key) restricts it to that seller and hides the operator's money. */
  async calls(q: ReportQuery, scope: string | null): Promise<ReportOut> {
    const { from, to } = periodOf(q);
    const dim: Dimension = q.group_by;
    const filter = {
      ...readPlan(q.tz, from, to, dim === 'hour' || dim === 'day' ? dim : null),
      sellerId: scope ?? q.seller_id,
      campaignId: q.campaign_id,
    };
    const staff = scope === null;
    const withRent = staff && RENT_DIMENSIONS.includes(dim);
    const [rows, rent] = await Promise.all([
      sums(this.sql, dim, filter),
      withRent ? rentByKey(this.sql, dim, filter) : Promise.resolve(null),
    ]);
    const total: Omit<SumRow, 'key' | 'name' | 'campaign_id' | 'client_id'> = {
      calls: 0,
      answered: 0,
      talk_s: 0,
      billable_s: 0,
      conversions: 0,
      payout_micros: 0,
      revenue_micros: 0,
      cost_micros: 0,
    };
    let rentTotal = 0;
    const items = rows.map((r) => {
      for (const k of Object.keys(total) as Array<keyof typeof total>) total[k] += r[k];
      const share = rent ? (rent.get(r.key) ?? 0) : null;
      rentTotal += share ?? 0;
      const { key, name, campaign_id, client_id } = r;
      return {
        key,
        name,
        ...(dim === 'link' ? { campaign_id, client_id } : {}),
        ...figuresOf(r, share, staff),
      };
    });
    return {
      group_by: dim,
      tz: q.tz,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      items,
      totals: figuresOf(total, rent ? rentTotal : null, staff),
    };
  }
}

/** A report as CSV: a header line, one line per group, a final newline. */
export function reportCsv(r: ReportOut): string {
  const lines = [CSV_COLS.join(','), ...r.items.map((row) => CSV_COLS.map((k) => csvCell(row[k])).join(','))];
  return `${lines.join('\n')}\n`;
}
