// The routing resources' request and response shapes (zod), and the rows as the API shows them,
// one file per resource under schemas/: sellers, clients, buyer groups, campaigns, DIDs, the links
// between campaigns and clients, and the caller blocklists (schemas/common.ts: caps, time zones,
// phone numbers, amounts). This module is the one name the domain imports.
export {
  type CapBody,
  capFields,
  capsOut,
  capValues,
  cascadeQuery,
  hasCapFields,
  micros,
  toCaps,
  toE164,
} from './schemas/common.ts';
export * from './schemas/sellers.ts';
export * from './schemas/clients.ts';
export * from './schemas/groups.ts';
export * from './schemas/campaigns.ts';
export * from './schemas/dids.ts';
export * from './schemas/links.ts';
export * from './schemas/blocklist.ts';
