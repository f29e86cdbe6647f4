// Old import path of src/platform/logger.ts, kept until the modules still importing it from here
// (callerid, cli, asterisk, routing's router) have moved; new code imports the platform file.
export * from './platform/logger.ts';
