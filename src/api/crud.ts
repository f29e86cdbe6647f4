// Old import path of the paging helpers (src/platform/http/paging.ts), the role lists and seller
// scope (src/platform/http/auth.ts) and the PostgreSQL error map (src/platform/pg-errors.ts), kept
// until callerid has moved; new code imports the platform files.
export { scopeOf, STAFF, STAFF_OR_SELLER } from '../platform/http/auth.ts';
export { idParams, type PageQuery, page, pageQuery } from '../platform/http/paging.ts';
export { mapDbError } from '../platform/pg-errors.ts';
