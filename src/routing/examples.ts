// What the routing routes answer, as /docs shows it: the out schemas with a typed example each
// (see platform/http/examples.ts). Ids are made up; amounts are micro-units.
import { z } from 'zod';
import { withResponseExample } from '../platform/http/examples.ts';
import {
  callerBlockImportOut,
  callerBlockOut,
  campaignOut,
  clientOut,
  didOut,
  groupOut,
  linkOut,
  sellerOut,
} from './schemas.ts';

const SELLER = '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01';
const CAMPAIGN = '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
const CLIENT = 'b7c8d9e0-1f2a-4b3c-9d4e-5f6a7b8c9d0e';
const AT = '2026-11-02T15:04:05.000Z';
const noCaps = {
  concurrency_cap: null,
  hourly_cap: null,
  daily_cap: null,
  monthly_cap: null,
  total_cap: null,
};

export const sellerDoc = withResponseExample(sellerOut, {
  id: SELLER,
  name: 'Acme Leads',
  active: true,
  ...noCaps,
  concurrency_cap: 40,
  daily_cap: 500,
  archived_at: null,
  created_at: AT,
});
/** What an archive did: the seller as it is now, and how many keys and console users it stopped. */
export const sellerArchiveDoc = withResponseExample(
  z.object({ seller: sellerOut, revoked_api_keys: z.number(), disabled_console_users: z.number() }),
  {
    seller: {
      id: SELLER,
      name: 'Acme Leads',
      active: true,
      ...noCaps,
      archived_at: '2026-03-02T10:00:00.000Z',
      created_at: AT,
    },
    revoked_api_keys: 2,
    disabled_console_users: 1,
  },
);
export const clientDoc = withResponseExample(clientOut, {
  id: CLIENT,
  name: 'Sunrise Insurance Austin',
  endpoint: 'sunrise-austin',
  active: true,
  timezone: 'America/Chicago',
  schedule: { '1': [['08:00', '18:00']], '5': [['08:00', '17:00']] },
  group_id: null,
  created_at: AT,
});
export const groupDoc = withResponseExample(groupOut, {
  id: 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f',
  name: 'Sunrise Insurance (all sites)',
  timezone: 'America/Chicago',
  ...noCaps,
  concurrency_cap: 60,
  daily_cap: 1200,
  created_at: AT,
});
export const campaignDoc = withResponseExample(campaignOut, {
  id: CAMPAIGN,
  seller_id: SELLER,
  name: 'Final expense - TX',
  strategy: 'priority',
  ring_timeout_s: 25,
  max_attempts: 3,
  dup_window_h: 24,
  dup_policy: 'same_client',
  reject_anonymous: true,
  repeat_window_s: null,
  use_blocklist: true,
  caller_regions: null,
  default_route: { kind: 'message', media: ['sound:all-circuits-busy-now'] },
  max_reroutes: 2,
  queue_s: null,
  max_call_s: 3600,
  record_calls: false,
  active: true,
  created_at: AT,
});
export const didDoc = withResponseExample(didOut, {
  id: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70',
  number: '+15125550142',
  seller_id: SELLER,
  campaign_id: CAMPAIGN,
  active: true,
  ...noCaps,
  daily_cap: 200,
  rate_per_min_micros: 4000,
  monthly_rent_micros: 1_000_000,
  created_at: AT,
});
export const linkDoc = withResponseExample(linkOut, {
  id: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a81',
  campaign_id: CAMPAIGN,
  client_id: CLIENT,
  ...noCaps,
  concurrency_cap: 10,
  daily_cap: 150,
  concurrency_schedule: null,
  priority: 1,
  weight: 100,
  active: true,
  recovery_s: 10,
  total_answered: 1234,
  caps_count: 'answered',
  convert_after_s: 90,
  payout_micros: 25_000_000,
  revenue_micros: 40_000_000,
  billing_increment: '6/6',
});
export const callerBlockDoc = withResponseExample(callerBlockOut, {
  id: 'f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b92',
  seller_id: SELLER,
  number: '+12125550199',
  note: 'abusive caller',
  created_at: AT,
});
export const callerBlockImportDoc = withResponseExample(callerBlockImportOut, {
  lines: 1200,
  added: 1185,
  already_listed: 12,
  rejected: [{ line: 37, reason: '"12345" is not a valid phone number' }],
  rejected_total: 3,
});
