// Old import path of src/platform/db.ts, kept until the modules still importing it from here
// (callerid, cli) have moved; new code imports the platform file.
export * from '../platform/db.ts';
