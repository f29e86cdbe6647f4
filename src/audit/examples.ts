// What the audit route answers, as /docs shows it (see platform/http/examples.ts).
import { withResponseExample } from '../platform/http/examples.ts';
import { auditOut } from './schemas.ts';

export const auditDoc = withResponseExample(auditOut, {
  id: 5812,
  at: '2026-11-02T15:04:05.000Z',
  actor: { type: 'api_key', id: '7c9e6679-7425-40de-944b-e07fc1f90ae7', label: 'ops automation' },
  resource: 'link',
  resource_id: 'e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a81',
  action: 'update',
  before: { daily_cap: 150 },
  after: { daily_cap: 200 },
});
