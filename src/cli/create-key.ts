import { parseCidr } from '../auth/cidr.ts';
import { createApiKey } from '../auth/keys.ts';
import { loadDbConfig } from '../config.ts';
import { createDatabase } from '../db/client.ts';
import { API_ROLES, type ApiRole } from '../db/schema/auth.ts';
import { parseCli } from './args.ts';
import { UsageError } from './index.ts';

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
