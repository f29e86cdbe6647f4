// `capconduit status`: asks a running daemon's /ready and says, part by part, what is up.
import { existsSync } from 'node:fs';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit status [--url http://127.0.0.1:8080] [--json]

Asks a running daemon how it is (GET /ready, no key needed) and prints each part in words:
PostgreSQL, Redis, each Asterisk node (ARI and AMI), the CDR writer, the caller-ID state, and any
other part a module reports. The daemon is found at --url, else at API_HOST:API_PORT from the
environment or .env. Exit status 0 when every part is ready, 1 otherwise or when no daemon answers.
`;

/** What each readiness check is, for a reader who does not know the daemon's insides. */
export function describeCheck(name: string): string {
  if (name.startsWith('asterisk:')) return `Asterisk node ${name.slice(9)} (ARI and AMI links)`;
  const known: Record<string, string> = {
    postgres: 'PostgreSQL',
    redis: 'Redis',
    cdr: 'CDR writer (local journal to PostgreSQL)',
    'event-loop': "this process's own load (new calls are shed while its event loop is late)",
    callerid: 'caller-ID state in Redis',
  };
  return known[name] ?? name;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { url: { type: 'string' }, json: { type: 'boolean' } });
  if (!values.url && existsSync('.env')) process.loadEnvFile('.env');
  let base = values.url;
  if (!base) {
    const host = process.env.API_HOST || '127.0.0.1';
    // A daemon listening on every address is reached on loopback.
    const reach = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
    base = `http://${reach.includes(':') ? `[${reach}]` : reach}:${process.env.API_PORT || '8080'}`;
  }
  let url: URL;
  try {
    url = new URL('/ready', base);
  } catch {
    throw new UsageError(`--url ${base} is not a URL`);
  }
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (e) {
    const cause =
      (e as { cause?: { code?: string } }).cause?.code ?? (e instanceof Error ? e.message : String(e));
    process.stderr.write(
      `no daemon answers at ${url.origin} (${cause}): start one with \`capconduit start\`, or say where with --url\n`,
    );
    return 1;
  }
  const body = (await res.json().catch(() => null)) as {
    status?: string;
    checks?: Record<string, { ok: boolean; error?: string }>;
  } | null;
  if (!body?.checks) {
    process.stderr.write(
      `${url.origin} answered ${res.status} without a readiness report: is it a CapConduit daemon?\n`,
    );
    return 1;
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return res.ok ? 0 : 1;
  }
  const rows = Object.entries(body.checks).map(([name, c]) => [
    describeCheck(name),
    c.ok ? 'ready' : `NOT READY: ${c.error ?? 'no reason given'}`,
  ]);
  const w = Math.max(...rows.map(([d]) => d!.length));
  process.stdout.write(`daemon at ${url.origin}: ${res.ok ? 'ready' : 'NOT READY'}\n`);
  for (const [d, s] of rows) process.stdout.write(`  ${d!.padEnd(w)}  ${s}\n`);
  return res.ok ? 0 : 1;
}
