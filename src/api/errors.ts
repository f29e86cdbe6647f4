// Old import path of src/platform/http/errors.ts (the error catalogue), kept until callerid has
// moved; new code imports the platform file.
export * from '../platform/http/errors.ts';
