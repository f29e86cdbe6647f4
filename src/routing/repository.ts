// Every SQL of the routing domain, one file per resource under repository/: sellers, clients, buyer
// groups, campaigns, DIDs, links, the plan a call is routed by, the answered totals, the caller
// blocklists, and the uses a cap owner had this period (counted back from the CDRs). Every list's
// allow-listed ordering sits beside its resource (repository/common.ts has the one ORDER BY rule),
// and each read a seller may make takes its `scope`. This module is the one name the domain imports.
export {
  type CallerBlockRow,
  type CampaignRow,
  type ClientRow,
  type DidRow,
  type GroupRow,
  type LinkRow,
  type ListSort,
  orderOf,
  type OwnerFilter,
  type Q,
  type SellerRow,
} from './repository/common.ts';
export * from './repository/sellers.ts';
export * from './repository/clients.ts';
export * from './repository/groups.ts';
export * from './repository/campaigns.ts';
export * from './repository/dids.ts';
export * from './repository/links.ts';
export * from './repository/plan.ts';
export * from './repository/totals.ts';
export * from './repository/blocklist.ts';
export * from './repository/uses.ts';
