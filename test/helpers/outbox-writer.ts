// A process that commits a change with its event through the outbox and then never sends anything:
// the test SIGKILLs it once it has said so, as a daemon dying between the commit and the delivery.
// Run as `node --import tsx test/helpers/outbox-writer.ts <seller name>` with DATABASE_URL set.
import { sellers } from '../../src/db/schema/routing.ts';
import { createDatabase } from '../../src/platform/db.ts';
import { writeEvent } from '../../src/platform/outbox.ts';

const database = createDatabase(process.env.DATABASE_URL!, { max: 1 });
const name = process.argv[2]!;
await database.db.transaction(async (tx) => {
  const [s] = await tx.insert(sellers).values({ name }).returning();
  await writeEvent(tx, { type: 'number.provisioned', sellerId: null, data: { seller_id: s!.id, name } });
});
process.stdout.write('committed\n');
setInterval(() => {}, 60_000);
