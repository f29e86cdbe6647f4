// capconduit <command>: the one executable. Each command lives in its own file.
import { ConfigError } from '../config.ts';

const COMMANDS: Record<
  string,
  { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }
> = {
  start: {
    summary: 'run the daemon (API, Asterisk links, routing, workers)',
    load: () => import('./start.ts'),
  },
  migrate: { summary: 'apply database migrations (idempotent)', load: () => import('./migrate.ts') },
  simulate: {
    summary:
      'run the Asterisk simulator: --ari-port 8088 --ami-port 5038 --user --password [--host] [--endpoint name[:behaviour]]...',
    load: () => import('./simulate.ts'),
  },
  demo: {
    summary:
      'simulator + daemon + sample data + inbound traffic: [--ari-port] [--ami-port] [--rate 20] [--duration 30]',
    load: () => import('./demo.ts'),
  },
  'import-cids': {
    summary:
      'import caller IDs from CSV: <file.csv> [--campaign X] [--json] (exit 3 when lines were rejected)',
    load: () => import('./import-cids.ts'),
  },
  'simulate-carrier': {
    summary:
      'run the fake Vonage carrier: [--port 8089] [--api-key] [--api-secret] [--inventory 20] [--rate-limit N] [--fault NPA:kind]...',
    load: () => import('./simulate-carrier.ts'),
  },
  'create-user': {
    summary:
      'create a console user: --email <address> --role admin|staff|seller|viewer [--seller <id>] [--password-stdin] (else CAPCONDUIT_PASSWORD)',
    load: () => import('./create-user.ts'),
  },
  'create-key': {
    summary:
      'create an API key: --role admin|staff|seller|dialer [--seller <id>] [--allow-ip <cidr>]... [--label <text>]',
    load: () => import('./create-key.ts'),
  },
};

export function registerCommand(
  name: string,
  summary: string,
  load: () => Promise<{ run(argv: string[]): Promise<number> }>,
) {
  COMMANDS[name] = { summary, load };
}

function usage(): string {
  const w = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return `usage: capconduit <command> [options]\n\ncommands:\n${Object.entries(COMMANDS)
    .map(([k, v]) => `  ${k.padEnd(w)}  ${v.summary}`)
    .join('\n')}\n`;
}

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
    return await mod.run(rest);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`capconduit ${cmd}: ${e.message}\n`);
      return 78; // EX_CONFIG
    }
    if (e instanceof UsageError) {
      process.stderr.write(`capconduit ${cmd}: ${e.message}\n`);
      return 2;
    }
    process.stderr.write(`capconduit ${cmd}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}

export class UsageError extends Error {}
