import { parseCidr } from '../auth/cidr.ts';
import { createApiKey } from '../auth/keys.ts';
import { loadDbConfig } from '../config.ts';
import { createDatabase } from '../platform/db.ts';
import { API_ROLES, type ApiRole } from '../db/schema/auth.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit create-key --role admin|staff|seller|dialer [--seller <id>]
                            [--allow-ip <cidr>]... [--label <text>] [--json]

Creates an API key in the database of DATABASE_URL and prints it once; only its SHA-256 hash is
stored. admin: everything; staff: everything but keys; seller: one seller's own resources (--seller
<seller id>); dialer: only /next-cid. --allow-ip (repeatable) limits the key to those addresses.
List and revoke keys with \`capconduit keys\`.
`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    role: { type: 'string' },
    seller: { type: 'string' },
    'allow-ip': { type: 'string', multiple: true },
    label: { type: 'string' },
    json: { type: 'boolean' },
  });
  const role = values.role as ApiRole | undefined;
  if (!role || !API_ROLES.includes(role))
    throw new UsageError(`--role must be one of ${API_ROLES.join(', ')}`);
  if (role === 'seller' && !values.seller) throw new UsageError('a seller key needs --seller <seller id>');
  if (role !== 'seller' && values.seller) throw new UsageError('--seller is only for --role seller');
  if (values.seller && !UUID.test(values.seller)) throw new UsageError('--seller must be a seller id (uuid)');
  const allowIps: string[] = [];
  for (const c of values['allow-ip'] ?? []) {
    const n = parseCidr(c);
    if (!n) throw new UsageError(`--allow-ip "${c}" is not an IP address or CIDR`);
    allowIps.push(n);
  }
  const { DATABASE_URL } = loadDbConfig();
  const database = createDatabase(DATABASE_URL, { max: 1 });
  try {
    const k = await createApiKey(database.db, {
      role,
      sellerId: values.seller ?? null,
      allowIps,
      label: values.label ?? null,
    });
    if (values.json) process.stdout.write(`${JSON.stringify({ id: k.id, key: k.key, role })}\n`);
    else
      process.stdout.write(
        `API key (shown once, store it now):\n${k.key}\nid: ${k.id}  role: ${role}${allowIps.length ? `  allow: ${allowIps.join(',')}` : ''}\n`,
      );
    return 0;
  } finally {
    await database.close();
  }
}
