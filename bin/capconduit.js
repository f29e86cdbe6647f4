#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so a fresh clone needs no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/index.ts');
const code = await main(process.argv.slice(2));
// Let pino flush, then leave with the command's status.
process.exitCode = code;
if (code !== 0 || process.argv[2] !== 'start') setTimeout(() => process.exit(code), 50).unref();
