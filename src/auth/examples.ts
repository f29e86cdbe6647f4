// What the API-key routes answer, as /docs shows it (see platform/http/examples.ts). Ids are made up.

/** The key the examples show. */
export const keyExample = {
  id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  prefix: 'cc_live_7Qm2',
  role: 'dialer' as const,
  seller_id: null,
  allow_ips: ['198.51.100.0/24'],
  label: 'VICIdial cluster A',
  rate_limit_per_min: 6000,
  created_at: '2026-11-02T15:04:05.000Z',
  revoked_at: null,
};
