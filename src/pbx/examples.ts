// What the PBX routes answer, as /docs shows it (see platform/http/examples.ts). Ids are made up.
import type { z } from 'zod';
import { withResponseExample } from '../platform/http/examples.ts';
import { applyOut, auditOut, endpointOut, userOut } from './schemas.ts';

const AT = '2026-11-02T15:04:05.000Z';
export const endpointExample = {
  id: '0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e',
  endpoint: 'sunrise-austin',
  kind: 'client_ip',
  client_id: 'b7c8d9e0-1f2a-4b3c-9d4e-5f6a7b8c9d0e',
  seller_id: null,
  user_id: null,
  username: null,
  options: { codecs: ['ulaw', 'alaw'] },
  ips: ['203.0.113.20/32'],
  contact: 'sip:pbx.sunrise.example.com:5060',
  created_at: AT,
} as const satisfies z.output<typeof endpointOut>;
export const endpointDoc = withResponseExample(endpointOut, endpointExample);
export const userExample = {
  id: '1c2d3e4f-5a6b-4c7d-9e8f-0a1b2c3d4e5f',
  name: 'Dana Agent',
  email: 'dana@example.com',
  extension: 1001,
  endpoint: '1001',
  created_at: AT,
} satisfies z.output<typeof userOut>;
export const userDoc = withResponseExample(userOut, userExample);
export const applyDoc = withResponseExample(applyOut, {
  triggered_by: 'ops: new client endpoints',
  started_at: AT,
  finished_at: '2026-11-02T15:04:05.840Z',
  ok: true,
  endpoints: 42,
  nodes: [
    {
      node: 'asterisk-1',
      reachable: true,
      error: null,
      reload: { ok: true, message: 'Module reloaded' },
      endpoints: [{ endpoint: 'sunrise-austin', visible: true, reason: null }],
    },
  ],
});
export const pbxAuditDoc = withResponseExample(auditOut, {
  id: 311,
  at: AT,
  actor: { key_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', label: 'ops automation' },
  action: 'client_endpoint.create',
  target: 'sunrise-austin',
  result: 'ok',
  detail: { kind: 'client_ip' },
});
