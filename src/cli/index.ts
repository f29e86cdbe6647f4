// capconduit <command>: the registry of commands. Each command lives in its own file and exports
// `usage` (its --help text) and `run`; commands never import this file (errors.ts holds what they
// throw), so there is no import cycle. `capconduit <command> --help` prints the usage without
// running anything.
import { ConfigError } from '../config.ts';
import { PortInUseError, UsageError } from './errors.ts';

export interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<Command> }> = {
  start: {
    summary: 'run the daemon (API, Asterisk links, routing, workers)',
    load: () => import('./start.ts'),
  },
  status: {
    summary: 'ask a running daemon how it is (its /ready, in words)',
    load: () => import('./status.ts'),
  },
  migrate: { summary: 'apply database migrations (idempotent)', load: () => import('./migrate.ts') },
  'create-key': { summary: 'create an API key', load: () => import('./create-key.ts') },
  'create-user': { summary: 'create a console user', load: () => import('./create-user.ts') },
  keys: { summary: 'list or revoke API keys', load: () => import('./keys.ts') },
  'import-cids': { summary: 'import caller IDs from a CSV file', load: () => import('./import-cids.ts') },
  call: {
    summary: 'place a test inbound call to a DID on an Asterisk node and say what happened',
    load: () => import('./call.ts'),
  },
  simulate: { summary: 'run the Asterisk simulator (ARI + AMI)', load: () => import('./simulate.ts') },
  'simulate-carrier': { summary: 'run the fake Vonage carrier', load: () => import('./simulate-carrier.ts') },
  demo: {
    summary: 'simulator + daemon + sample data + inbound traffic, explained',
    load: () => import('./demo.ts'),
  },
  worker: {
    summary: 'run the BullMQ workers alone (carrier jobs, webhook deliveries), no API',
    load: () => import('./worker.ts'),
  },
  jobs: {
    summary: "watch a provisioning job's progress until it completes",
    load: () => import('./jobs.ts'),
  },
  'rotate-master-key': {
    summary: 're-seal every stored secret under MASTER_KEY (old keys in MASTER_KEY_PREVIOUS)',
    load: () => import('./rotate-master-key.ts'),
  },
};

/** The command names, for tests that check every command's --help. */
export const COMMAND_NAMES = Object.keys(COMMANDS);

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `usage: capconduit <command> [options]\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([k, v]) => `  ${k.padEnd(w)}  ${v.summary}`)
    .join('\n')}\n\n\`capconduit <command> --help\` says more about each.\n`;
}

const wantsHelp = (argv: string[]) => argv.some((a) => a === '--help' || a === '-h');

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(usage());
    return cmd ? 0 : 2;
  }
  const c = COMMANDS[cmd];
  if (!c) {
    process.stderr.write(`capconduit: unknown command "${cmd}"\n\n${usage()}`);
    return 2;
  }
  try {
    const mod = await c.load();
    if (wantsHelp(rest)) {
      process.stdout.write(mod.usage.endsWith('\n') ? mod.usage : `${mod.usage}\n`);
      return 0;
    }
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`capconduit ${cmd}: ${e.message}\n`);
      return 78; // EX_CONFIG
    }
    if (e instanceof UsageError) {
      process.stderr.write(`capconduit ${cmd}: ${e.message} (capconduit ${cmd} --help)\n`);
      return 2;
    }
    if (e instanceof PortInUseError) {
      process.stderr.write(`capconduit ${cmd}: ${e.message}\n`);
      return 1;
    }
    process.stderr.write(`capconduit ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
