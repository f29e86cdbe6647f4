// What the caller-ID routes answer, as /docs shows it (see platform/http/examples.ts).
import { withResponseExample } from '../platform/http/examples.ts';
import { importOut, numberOut, poolOut, statsOut } from './schemas.ts';

const AT = '2026-11-02T15:04:05.000Z';
export const poolDoc = withResponseExample(poolOut, {
  id: 'tx-outbound',
  name: 'Texas outbound',
  fallback_number: '+15125550100',
  health_window: 50,
  health_min_answer_rate: 0.1,
  health_rest_s: 3600,
  numbers: 240,
  created_at: AT,
});
export const numberDoc = withResponseExample(numberOut, {
  number: '+15125550123',
  carrier: 'Vonage',
  area_code: '512',
  state: 'TX',
  hourly_limit: 20,
  daily_limit: 100,
  active: true,
  pools: ['tx-outbound'],
  campaigns: ['tx-outbound'],
  usage: {
    uses_hour: 4,
    uses_day: 37,
    total: 5210,
    last_used_at: AT,
    answered: 812,
    unanswered: 4398,
    rested_until: null,
  },
  created_at: '2026-10-01T12:00:00.000Z',
});
const counts = {
  numbers: 240,
  available: 198,
  cooling: 30,
  reserved: 2,
  exhausted_hourly: 6,
  exhausted_daily: 1,
  resting: 3,
  uses_hour: 612,
  uses_day: 8840,
};
export const statsDoc = withResponseExample(statsOut, {
  at: AT,
  pools: [{ pool: 'tx-outbound', ...counts }],
  campaigns: [{ campaign: 'tx-outbound', ...counts }],
  numbers: {
    items: [
      {
        number: '+15125550123',
        pools: ['tx-outbound'],
        campaigns: ['tx-outbound'],
        active: true,
        uses_hour: 4,
        hourly_limit: 20,
        uses_day: 37,
        daily_limit: 100,
        total: 5210,
        last_used_at: AT,
        reserved_until: null,
        rested_until: null,
        exhausted: null,
        answered: 812,
        unanswered: 4398,
        health: { calls: 50, answer_rate: 0.16 },
      },
    ],
    limit: 50,
    offset: 0,
    total: 240,
  },
});
export const importDoc = withResponseExample(importOut, {
  lines: 5000,
  imported: 4990,
  rejected: [{ line: 12, reason: 'not a valid phone number' }],
  rejected_total: 10,
  pools_created: ['tx-outbound'],
});
