// The call report's query and answer shapes (zod), and a row as the API shows it.
import { z } from 'zod';
import { ianaZone } from '../platform/http/input.ts';
import { DIMENSIONS, type SumRow } from './repository.ts';

export const reportQuery = z.object({
  group_by: z.enum(DIMENSIONS),
  /** `YYYY-MM-DD` (midnight in `tz`), `YYYY-MM-DDTHH:MM` in `tz`, or an instant with its offset. */
  from: z.string().max(40),
  to: z.string().max(40),
  tz: ianaZone.default('UTC'),
  seller_id: z.uuid().optional(),
  campaign_id: z.uuid().optional(),
  format: z.enum(['json', 'csv']).default('json'),
});
export type ReportQuery = z.infer<typeof reportQuery>;

const money = z.number().nullable();
const figures = {
  calls: z.number(),
  answered: z.number(),
  /** answered / calls (0 without calls). */
  answer_rate: z.number(),
  /** Average handle time: talk seconds per answered call. */
  aht_s: z.number(),
  billable_minutes: z.number(),
  conversions: z.number(),
  /** Micro-units; revenue, cost, rent and margin are null for a seller's key. */
  payout_micros: z.number(),
  revenue_micros: money,
  cost_micros: money,
  /** DIDs' monthly rent spread over their calls; null where it cannot be attributed (client, link). */
  rent_micros: money,
  margin_micros: money,
};
export const reportRow = z.object({
  key: z.string().nullable(),
  name: z.string().nullable(),
  campaign_id: z.string().nullable().optional(),
  client_id: z.string().nullable().optional(),
  ...figures,
});
export type ReportRow = z.infer<typeof reportRow>;
export const reportOut = z.object({
  group_by: z.enum(DIMENSIONS),
  tz: z.string(),
  from: z.string(),
  to: z.string(),
  items: z.array(reportRow),
  totals: z.object(figures),
});
export type ReportOut = z.infer<typeof reportOut>;

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;

/** The figures of summed rollups, as shown: rates and averages derived, money by what the key may see. */
export function figuresOf(
  s: Omit<SumRow, 'key' | 'name' | 'campaign_id' | 'client_id'>,
  rent: number | null,
  staff: boolean,
) {
  return {
    calls: s.calls,
    answered: s.answered,
    answer_rate: s.calls ? round(s.answered / s.calls, 4) : 0,
    aht_s: s.answered ? round(s.talk_s / s.answered, 1) : 0,
    billable_minutes: round(s.billable_s / 60, 2),
    conversions: s.conversions,
    payout_micros: s.payout_micros,
    revenue_micros: staff ? s.revenue_micros : null,
    cost_micros: staff ? s.cost_micros : null,
    rent_micros: staff ? rent : null,
    margin_micros: staff ? s.revenue_micros - s.payout_micros - s.cost_micros - (rent ?? 0) : null,
  };
}

export const CSV_COLS = [
  'key',
  'name',
  'calls',
  'answered',
  'answer_rate',
  'aht_s',
  'billable_minutes',
  'conversions',
  'payout_micros',
  'revenue_micros',
  'cost_micros',
  'rent_micros',
  'margin_micros',
] as const;
