// What the report route answers, as /docs shows it (see platform/http/examples.ts). Amounts are
// micro-units.
import { withResponseExample } from '../platform/http/examples.ts';
import { reportOut } from './schemas.ts';

const figures = {
  calls: 412,
  answered: 361,
  answer_rate: 0.876,
  aht_s: 214,
  billable_minutes: 1290,
  conversions: 188,
  payout_micros: 4_700_000_000,
  revenue_micros: 7_520_000_000,
  cost_micros: 5_160_000,
  rent_micros: 1_200_000,
  margin_micros: 2_813_640_000,
};
export const reportDoc = withResponseExample(reportOut, {
  group_by: 'campaign',
  tz: 'America/New_York',
  from: '2026-11-01T04:00:00.000Z',
  to: '2026-12-01T05:00:00.000Z',
  items: [{ key: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d', name: 'Final expense - TX', ...figures }],
  totals: figures,
});
