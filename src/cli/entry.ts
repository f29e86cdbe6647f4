// Process entry of `capconduit <command>`: runs the command, then leaves with its status. Loaded
// through tsx by bin/capconduit.js (a fresh clone needs no build), or compiled as dist/cli/entry.js
// (`npm run build`), which is how production runs it: the tsx loader costs ~50 MB of RSS.
import { main } from './index.ts';

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Let pino flush, then leave with the command's status (a running daemon leaves on its signal).
if (code !== 0 || process.argv[2] !== 'start') setTimeout(() => process.exit(code), 50).unref();
