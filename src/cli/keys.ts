// `capconduit keys list|revoke`: the operator's view of API keys without the API (which needs a key).
import { listApiKeys, revokeApiKey } from '../auth/keys.ts';
import { loadDbConfig } from '../config.ts';
import { createDatabase } from '../platform/db.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit keys list [--all] [--json]
       capconduit keys revoke <key id | cc_<prefix> | the key itself>

list: the API keys in the database of DATABASE_URL, newest first (--all includes revoked ones): id,
prefix (the cc_xxxxxxxx a key starts with), role, seller, label, created, last used. Keys themselves
are never stored, so they cannot be shown again.
revoke: stops a key at once on this database; daemons that cached it stop accepting it within 30 s.
Create keys with \`capconduit create-key\`.
`;

export async function run(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'list') return list(rest);
  if (sub === 'revoke') return revoke(rest);
  throw new UsageError(sub ? `unknown subcommand "${sub}": list or revoke` : 'say list or revoke');
}

async function list(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, { all: { type: 'boolean' }, json: { type: 'boolean' } });
  const { DATABASE_URL } = loadDbConfig();
  const database = createDatabase(DATABASE_URL, { max: 1 });
  try {
    const rows = await listApiKeys(database.db, { includeRevoked: values.all === true });
    if (values.json) {
      process.stdout.write(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    if (!rows.length) {
      process.stdout.write(`no ${values.all ? '' : 'active '}API keys (capconduit create-key makes one)\n`);
      return 0;
    }
    const day = (d: Date | null) => (d ? d.toISOString().slice(0, 16).replace('T', ' ') : '-');
    const table = [
      ['id', 'prefix', 'role', 'seller', 'label', 'created', 'last used', ...(values.all ? ['revoked'] : [])],
      ...rows.map((r) => [
        r.id,
        `cc_${r.prefix}`,
        r.role,
        r.sellerId ?? '-',
        r.label ?? '-',
        day(r.createdAt),
        day(r.lastUsedAt),
        ...(values.all ? [day(r.revokedAt)] : []),
      ]),
    ];
    const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
    for (const row of table)
      process.stdout.write(
        `${row
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
      );
    return 0;
  } finally {
    await database.close();
  }
}

async function revoke(argv: string[]): Promise<number> {
  const { positionals } = parseCli(argv, {}, true);
  if (positionals.length !== 1) throw new UsageError('revoke takes one key id, prefix or key');
  // A whole key or cc_<prefix> names its prefix; anything else is an id or a bare prefix.
  const arg = positionals[0]!;
  const m = /^cc_([A-Za-z0-9_-]{8})(?:_|$)/.exec(arg);
  const { DATABASE_URL } = loadDbConfig();
  const database = createDatabase(DATABASE_URL, { max: 1 });
  try {
    const r = await revokeApiKey(database.db, m ? m[1]! : arg);
    if (!r) {
      // Never echo a whole key back: name its prefix.
      const shown = m ? `cc_${m[1]}` : arg;
      process.stderr.write(`no single API key matches "${shown}" (capconduit keys list shows them)\n`);
      return 1;
    }
    process.stdout.write(
      r.already
        ? `key ${r.id} (cc_${r.prefix}) was already revoked\n`
        : `revoked key ${r.id} (cc_${r.prefix}); daemons that cached it refuse it within 30 s\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
