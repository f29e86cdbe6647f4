#!/usr/bin/env node
// Runs the TypeScript sources through tsx's loader, so a fresh clone needs no build step.
// Production runs the compiled build instead: `npm run build`, then `node dist/cli/entry.js start`.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/entry.ts');
