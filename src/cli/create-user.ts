// capconduit create-user: a console user, typically the first admin (admins add the rest in the console).
import { loadDbConfig } from '../config.ts';
import { ConsoleRepository } from '../console/repository.ts';
import { userCreateBody } from '../console/schemas.ts';
import { hashPassword } from '../console/users.ts';
import { createDatabase } from '../platform/db.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';

export const usage = `usage: capconduit create-user --email <address> --role admin|staff|seller|viewer [--seller <id>]
                           [--password-stdin]

Creates a console user in the database of DATABASE_URL, typically the first admin (admins add the
rest in the console). The password comes from standard input (--password-stdin, one line) or
CAPCONDUIT_PASSWORD, never from the command line.
`;

/** The password comes from --password-stdin (one line) or CAPCONDUIT_PASSWORD, never from argv. */
async function readPassword(fromStdin: boolean): Promise<string> {
  if (!fromStdin) {
    const p = process.env.CAPCONDUIT_PASSWORD;
    if (!p)
      throw new UsageError(
        'give the password on standard input (--password-stdin) or in CAPCONDUIT_PASSWORD',
      );
    return p;
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.split(/\r?\n/)[0] ?? '';
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    email: { type: 'string' },
    role: { type: 'string' },
    seller: { type: 'string' },
    'password-stdin': { type: 'boolean' },
  });
  const password = await readPassword(values['password-stdin'] === true);
  const v = userCreateBody.safeParse({
    email: values.email,
    password,
    role: values.role,
    seller_id: values.seller,
  });
  if (!v.success)
    throw new UsageError(
      v.error.issues
        .map(
          (i) => `${i.path.join('.') === 'seller_id' ? '--seller' : `--${i.path.join('.')}`}: ${i.message}`,
        )
        .join('; '),
    );
  const { DATABASE_URL } = loadDbConfig();
  const database = createDatabase(DATABASE_URL, { max: 1 });
  try {
    const repo = new ConsoleRepository(database.db);
    const archived = v.data.seller_id ? await repo.sellerArchived(v.data.seller_id) : false;
    if (archived === null) throw new UsageError(`--seller: no seller ${v.data.seller_id}`);
    if (archived) throw new UsageError(`--seller: seller ${v.data.seller_id} is archived`);
    const u = await repo.insert({
      email: v.data.email,
      passwordHash: await hashPassword(v.data.password),
      role: v.data.role,
      sellerId: v.data.seller_id ?? null,
    });
    process.stdout.write(`console user ${u.email} created (role ${u.role}, id ${u.id})\n`);
    return 0;
  } finally {
    await database.close();
  }
}
