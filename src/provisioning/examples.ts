// What the provisioning routes answer, as /docs shows it (see platform/http/examples.ts). Ids and
// numbers are made up.
import { z } from 'zod';
import { withResponseExample } from '../platform/http/examples.ts';
import { page } from '../platform/http/paging.ts';
import {
  accountOut,
  deliveriesOut,
  groupOut,
  jobAccepted,
  jobOut,
  numberOut,
  reconcileOut,
  searchOut,
  testDeliveryOut,
  webhookOut,
} from './schemas.ts';

const AT = '2026-11-02T15:04:05.000Z';
const ACCOUNT = '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d';
const SELLER = '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01';
const JOB = '5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f';

export const accountDoc = withResponseExample(accountOut, {
  id: ACCOUNT,
  name: 'Vonage main',
  provider: 'vonage',
  rest_url: 'https://rest.nexmo.com',
  api_url: 'https://api.nexmo.com',
  rate_per_s: 1,
  concurrency: 2,
  timeout_ms: 10_000,
  use_subaccounts: true,
  signalling_cidrs: ['216.147.0.0/18'],
  trunk_endpoint: 'carrier-vonage-main',
  voice: { type: 'sip', value: 'sip:capconduit@sip.example.com' },
  active: true,
  created_at: AT,
});
export const jobAcceptedDoc = withResponseExample(jobAccepted, { job_id: JOB, status: 'queued', total: 25 });
export const jobDoc = withResponseExample(jobOut, {
  id: JOB,
  kind: 'provision',
  status: 'queued',
  provider_account_id: ACCOUNT,
  seller_id: SELLER,
  total: 25,
  done: 21,
  counts: { provisioned: 20, no_inventory: 1 },
  account_disabled: false,
  created_at: AT,
  finished_at: null,
  items: [
    {
      idx: 0,
      input: { npa: '512' },
      state: 'done',
      outcome: 'provisioned',
      result: { e164: '+15125550142', did_id: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70' },
      attempts: 1,
      latency_ms: 840,
    },
  ],
});
export const ownedNumberDoc = withResponseExample(numberOut, {
  id: '6e7f8091-a2b3-4c4d-9e5f-6a7b8c9d0e1f',
  e164: '+15125550142',
  country: 'US',
  provider_account_id: ACCOUNT,
  seller_id: SELLER,
  status: 'owned',
  did_id: 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70',
  voice: { type: 'sip', value: 'sip:capconduit@sip.example.com' },
  bought_at: AT,
  released_at: null,
});

export const reconcileDoc = withResponseExample(reconcileOut, {
  provider_account_id: ACCOUNT,
  checked_at: AT,
  carrier_numbers: 358,
  our_numbers: 357,
  missing_at_carrier: [],
  unknown_to_us: [{ e164: '+15125550199', subaccount: 'acme-leads', seller_id: SELLER, action: 'adopt' }],
  fixed: null,
});
export const groupDoc = withResponseExample(groupOut, {
  provider_account_id: ACCOUNT,
  seller_id: SELLER,
  subaccount: 'f1e2d3c4',
  voice: { type: 'sip', value: 'sip:capconduit@sip.example.com' },
  sip_domain: 'acme-leads',
});
export const searchDoc = withResponseExample(searchOut, {
  count: 2,
  numbers: [
    { e164: '+15125550142', country: 'US', type: 'landline', features: ['VOICE', 'SMS'], cost: '0.90' },
    { e164: '+15125550143', country: 'US', type: 'landline', features: ['VOICE'], cost: '0.90' },
  ],
});
const WEBHOOK = {
  id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
  url: 'https://hooks.example.com/capconduit',
  events: ['number.provisioned', 'job.completed'],
  seller_id: null,
  active: true,
  created_at: AT,
};
export const webhookCreatedDoc = withResponseExample(webhookOut.extend({ secret: z.string() }), {
  ...WEBHOOK,
  secret: 'whsec_example-only-3kPq9',
});
export const webhookPageDoc = withResponseExample(page(webhookOut), {
  items: [WEBHOOK],
  limit: 50,
  offset: 0,
  total: 1,
});
export const webhookPausedDoc = withResponseExample(webhookOut, { ...WEBHOOK, active: false });
export const deliveriesDoc = withResponseExample(deliveriesOut, {
  items: [
    {
      id: 9001,
      event: 'job.completed',
      event_id: 'b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e',
      status: 'delivered',
      attempts: 2,
      last_status: 200,
      last_error: null,
      created_at: AT,
      delivered_at: '2026-11-02T15:04:35.000Z',
    },
  ],
});
export const testDeliveryDoc = withResponseExample(testDeliveryOut, { delivery_id: 9002 });
