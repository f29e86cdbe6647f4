// The webhook outbox on real PostgreSQL, Redis and BullMQ with a loopback receiver: an event
// committed by a process SIGKILLed right after its commit (before it could send anything) is delivered
// once, signed, by the worker started afterwards; an event whose change rolls back is never delivered;
// a row handed to the queue again (a crash between handing it over and marking it) is not delivered
// twice.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { sellers } from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { writeEvent } from '../../src/platform/outbox.ts';
import { createProvisioningModule, type ProvisioningModule } from '../../src/provisioning/index.ts';
import { verify } from '../../src/provisioning/webhooks/sign.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import { freshDatabase, redisPrefix, testConfig } from '../helpers/env.ts';
import { waitFor } from '../helpers/wait.ts';

interface Received {
  body: string;
  signature: string;
}

describe('webhook outbox', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let prov: ProvisioningModule;
  let receiver: Server;
  let base = '';
  const prefix = redisPrefix();
  const received: Received[] = [];
  let sub: { id: string; secret: string };

  beforeAll(async () => {
    db = await freshDatabase();
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['capconduit-signature']) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
    // No workers at first: nothing in this process can deliver until the test starts them.
    d = await startDaemon(
      testConfig({
        DATABASE_URL: db.url,
        REDIS_KEY_PREFIX: prefix,
        WEBHOOK_ALLOW_PRIVATE: 'true',
        PROVISIONING_WORKERS: 'false',
      }),
      createLogger({ level: 'silent' }),
      [createRoutingModule, (ctx) => createProvisioningModule(ctx)],
      { listen: false },
    );
    prov = d.ctx.modules.get('provisioning') as ProvisioningModule;
    const admin = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
    const r = await d.app.inject({
      method: 'POST',
      url: '/v1/webhooks',
      headers: { 'x-api-key': admin },
      payload: { url: `${base}/hook`, events: ['number.provisioned'] },
    });
    expect(r.statusCode, r.body).toBe(201);
    sub = r.json();
  });
  afterAll(async () => {
    await d?.stop();
    receiver?.close();
    await db?.drop();
  });

  const pending = async () =>
    d.ctx.database.sql<{ id: string; status: string; enqueued_at: Date | null }[]>`
      select id, status, enqueued_at from webhook_deliveries order by id`;

  it('delivers, once, an event whose writer was SIGKILLed right after the commit', async () => {
    const child = spawn('node', ['--import', 'tsx', 'test/helpers/outbox-writer.ts', 'killed-writer'], {
      env: { ...process.env, DATABASE_URL: db.url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    await waitFor(() => out.includes('committed'));
    child.kill('SIGKILL');
    await once(child, 'exit');
    // Committed with the change, never handed over, nothing sent.
    const [row] = await pending();
    expect(row).toMatchObject({ status: 'pending', enqueued_at: null });
    expect(received).toHaveLength(0);
    const [seller] = await d.ctx.database.sql`select id from sellers where name = 'killed-writer'`;
    expect(seller).toBeDefined();

    await prov.startWorkers();
    await waitFor(async () => (await pending())[0]?.status === 'delivered');
    expect(received).toHaveLength(1);
    expect(verify(sub.secret, received[0]!.signature, received[0]!.body)).toBe(true);
    expect(JSON.parse(received[0]!.body)).toMatchObject({
      type: 'number.provisioned',
      data: { seller_id: seller!.id, name: 'killed-writer' },
    });
  });

  it('never delivers the event of a change that rolled back', async () => {
    await d.ctx.database.db
      .transaction(async (tx) => {
        await tx.insert(sellers).values({ name: 'rolled-back' });
        await writeEvent(tx, { type: 'number.provisioned', sellerId: null, data: { name: 'rolled-back' } });
        throw new Error('roll back');
      })
      .catch(() => {});
    // A later event is delivered; the rolled-back one never was written.
    const [id] = await writeEvent(d.ctx.database.db, {
      type: 'number.provisioned',
      sellerId: null,
      data: { name: 'after' },
    });
    await waitFor(() => received.some((r) => JSON.parse(r.body).data.name === 'after'));
    expect(received.map((r) => JSON.parse(r.body).data.name)).toEqual(['killed-writer', 'after']);
    expect((await pending()).map((r) => Number(r.id))).toContain(id);
    expect(await pending()).toHaveLength(2);
  });

  it('does not deliver twice a row handed to the queue again', async () => {
    const q = new Queue('webhooks', { connection: d.ctx.redis, prefix: `${prefix}:bull` });
    try {
      const [first] = await pending();
      // A crash after BullMQ took the row but before it was marked: the same job id, already run.
      await d.ctx.database.sql`update webhook_deliveries set enqueued_at = null where id = ${first!.id}`;
      await prov.webhooks.dispatch();
      const job = await q.getJob(`d${first!.id}`);
      expect(job?.attemptsMade).toBe(1);
      expect(await job?.getState()).toBe('completed');
      // And once BullMQ has forgotten the job: run again, it finds the row delivered and sends nothing.
      await job!.remove();
      await d.ctx.database.sql`update webhook_deliveries set enqueued_at = null where id = ${first!.id}`;
      await prov.webhooks.dispatch();
      await waitFor(async () => (await (await q.getJob(`d${first!.id}`))?.getState()) === 'completed');
      expect(received).toHaveLength(2);
      const rows = await d.ctx.database.sql`select attempts from webhook_deliveries where id = ${first!.id}`;
      expect(rows[0]!.attempts).toBe(1);
    } finally {
      await q.close();
    }
  });
});
