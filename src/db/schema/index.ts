// Every aggregate's tables, one file each. drizzle-kit reads this barrel.
export * from './auth.ts';
export * from './routing.ts';
export * from './cdr.ts';
export * from './asterisk.ts';
export * from './asterisk-cdr.ts';
export * from './pbx.ts';
export * from './callerid.ts';
export * from './console.ts';
export * from './provisioning.ts';
export * from './audit.ts';
export * from './reports.ts';
