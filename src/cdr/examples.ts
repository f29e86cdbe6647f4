// What the call routes answer, as /docs shows it (see platform/http/examples.ts). Ids are made up;
// amounts are micro-units.
import { withResponseExample } from '../platform/http/examples.ts';
import { callRecordOut } from './schemas.ts';

export const callRecordDoc = withResponseExample(callRecordOut, {
  call_id: '1733412245.1042',
  node_id: 'asterisk-1',
  seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
  campaign_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
  did: '+15125550142',
  caller_number: '+12145550123',
  client_id: 'b7c8d9e0-1f2a-4b3c-9d4e-5f6a7b8c9d0e',
  started_at: '2026-11-02T15:04:05.000Z',
  answered_at: '2026-11-02T15:04:12.000Z',
  ended_at: '2026-11-02T15:06:37.000Z',
  duration_s: 152,
  billable_s: 150,
  disposition: 'answered',
  hangup_cause: 16,
  attempts: [
    {
      link_id: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a81',
      client_id: 'b7c8d9e0-1f2a-4b3c-9d4e-5f6a7b8c9d0e',
      leg_id: '1733412245.1043',
      result: 'answered',
      started_at: '2026-11-02T15:04:05.400Z',
      answered_at: '2026-11-02T15:04:12.000Z',
      ended_at: '2026-11-02T15:06:37.000Z',
      ring_ms: 6600,
    },
  ],
  not_routed: [
    {
      link_id: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5e',
      client_id: 'c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e6f',
      reason: 'daily',
    },
  ],
  link_id: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a81',
  did_id: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70',
  seller_name: 'Acme Leads',
  campaign_name: 'Final expense - TX',
  client_name: 'Sunrise Insurance Austin',
  talk_s: 145,
  converted: true,
  payout_micros: 25_000_000,
  revenue_micros: 40_000_000,
  cost_micros: 612_000,
  rent_micros: 1_250,
  margin_micros: 14_386_750,
  default_route: null,
  end_reason: 'caller_hangup',
  handed_off_at: null,
  recording_name: null,
  recording_s: null,
  recording_deleted_at: null,
});
