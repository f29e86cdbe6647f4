// The audit trail of routing resources on real PostgreSQL: every change through the API is recorded
// with its actor and the row before and after, in the change's own transaction (a rolled-back change
// leaves no row); a change made without an actor (a job, a script) is recorded as system; a link's
// answered-calls flush is not a change; every routing table carries the trigger; GET /v1/audit
// filters by resource, actor and period and pages like every list, for staff only.
import { getTableConfig, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditModule } from '../../src/audit/index.ts';
import { createApiKey } from '../../src/auth/keys.ts';
import * as routingTables from '../../src/db/schema/routing.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { audited } from '../../src/platform/audit.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { createRoutingModule } from '../../src/routing/index.ts';
import * as repo from '../../src/routing/repository.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';
import { keyedRequests } from '../helpers/api.ts';

// Not routing configuration: answered-call counters flushed from the call path, the caller
// blocklist (data imported in bulk, thousands of rows a file), and the DIDs' rent history (written
// by a trigger on dids, whose own change is audited).
// Counter bookkeeping (written by the call path, one row a batch or an answer), bulk data and history.
const UNAUDITED_TABLES = [
  'routing_cap_totals',
  'routing_total_batches',
  'routing_counted_answers',
  'caller_blocks',
  'did_rents',
];

interface Entry {
  id: number;
  at: string;
  actor: { type: string; id: string | null; label: string | null };
  resource: string;
  resource_id: string | null;
  action: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

describe('audit trail', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let ops: { id: string; key: string };
  let other: { id: string; key: string };
  let sellerKey: string;

  const call = keyedRequests(() => d.app);
  const audit = async (query: string) => {
    const r = await call(ops.key, 'GET', `/v1/audit?${query}`);
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as { items: Entry[]; total: number; limit: number; offset: number };
  };

  beforeAll(async () => {
    db = await freshDatabase();
    d = await startDaemon(
      testConfig({ DATABASE_URL: db.url }),
      createLogger({ level: 'silent' }),
      [createRoutingModule, createAuditModule],
      { listen: false },
    );
    ops = await createApiKey(d.ctx.database.db, { role: 'admin', label: 'ops desk' });
    other = await createApiKey(d.ctx.database.db, { role: 'staff' });
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('records each change with its actor, before and after', async () => {
    const s = (await call(ops.key, 'POST', '/v1/sellers', { name: 'acme' })).json();
    sellerKey = (await createApiKey(d.ctx.database.db, { role: 'seller', sellerId: s.id })).key;
    const c = (await call(other.key, 'POST', '/v1/clients', { name: 'cc1', endpoint: 'cc1' })).json();
    const camp = (await call(sellerKey, 'POST', '/v1/campaigns', { name: 'auto' })).json();
    const did = (
      await call(ops.key, 'POST', '/v1/dids', {
        number: '+12025550100',
        seller_id: s.id,
        campaign_id: camp.id,
      })
    ).json();
    const l = await call(ops.key, 'POST', `/v1/campaigns/${camp.id}/links`, {
      client_id: c.id,
      daily_cap: 10,
    });
    expect(l.statusCode, l.body).toBe(201);
    const link = l.json();
    expect((await call(ops.key, 'PATCH', `/v1/links/${link.id}`, { daily_cap: 25 })).statusCode).toBe(200);
    expect((await call(ops.key, 'DELETE', `/v1/dids/${did.id}`)).statusCode).toBe(204);

    const linkLog = (await audit(`resource=link&resource_id=${link.id}`)).items;
    expect(linkLog.map((e) => e.action)).toEqual(['update', 'create']);
    expect(linkLog[0]).toMatchObject({
      actor: { type: 'api_key', id: ops.id, label: 'ops desk' },
      before: { daily_cap: 10 },
      after: { daily_cap: 25 },
    });
    expect(linkLog[1]).toMatchObject({ before: null, after: { id: link.id, daily_cap: 10 } });
    const didLog = (await audit(`resource=did&resource_id=${did.id}`)).items;
    expect(didLog.map((e) => e.action)).toEqual(['delete', 'create']);
    expect(didLog[0]).toMatchObject({ before: { number: '+12025550100' }, after: null });
    // A key without a label is named by its public prefix; a seller's key by itself.
    const clientLog = (await audit('resource=client')).items;
    expect(clientLog[0]!.actor).toMatchObject({ type: 'api_key', id: other.id });
    expect(clientLog[0]!.actor.label).toMatch(/^key /);
    expect((await audit('resource=campaign')).items[0]!.actor.type).toBe('api_key');
    expect((await audit('resource=seller')).items).toHaveLength(1);
  });

  it('writes nothing for a change that rolled back, and nothing for the answered-calls flush', async () => {
    const before = (await audit('limit=1')).total;
    const [link] = await d.ctx.database.sql<{ id: string }[]>`select id from campaign_links limit 1`;
    await audited(d.ctx.database.db, async (tx) => {
      await repo.updateLink(tx, link!.id, { dailyCap: 99 });
      throw new Error('roll back');
    }).catch(() => {});
    await repo.addAnsweredTotals(d.ctx.database.db, new Map([[link!.id, 3]]));
    const [row] = await d.ctx.database
      .sql`select daily_cap, total_answered from campaign_links where id = ${link!.id}`;
    expect(row).toMatchObject({ daily_cap: 25 });
    expect(Number(row!.total_answered)).toBe(3);
    expect((await audit('limit=1')).total).toBe(before);
  });

  it('records a change made without an actor as system', async () => {
    await d.ctx.database.sql`update clients set active = false where name = 'cc1'`;
    const [e] = (await audit('resource=client&actor_type=system')).items;
    expect(e).toMatchObject({ action: 'update', before: { active: true }, after: { active: false } });
    expect(e!.actor).toEqual({ type: 'system', id: null, label: null });
  });

  it('filters by actor and period and pages', async () => {
    const mine = await audit(`actor_id=${ops.id}&limit=2`);
    expect(mine.total).toBe(5); // seller, DID, link, link update, DID delete
    expect(mine.items).toHaveLength(2);
    const rest = await audit(`actor_id=${ops.id}&limit=2&offset=4`);
    expect(rest.items).toHaveLength(1);
    expect(rest.items[0]!.resource).toBe('seller');
    const all = (await audit('limit=500')).items;
    const newest = all[0]!.at;
    expect((await audit(`from=${encodeURIComponent(newest)}`)).items.every((e) => e.at >= newest)).toBe(true);
    expect((await audit(`to=${encodeURIComponent(newest)}`)).items.every((e) => e.at < newest)).toBe(true);
  });

  it('is for staff only, and refuses a bad filter with 400', async () => {
    expect((await call(sellerKey, 'GET', '/v1/audit')).statusCode).toBe(403);
    const bad = await call(ops.key, 'GET', '/v1/audit?from=yesterday');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('VALIDATION_FAILED');
  });

  it('has the audit trigger on every routing table but the counters, the blocklist and the rent history', async () => {
    const tables = Object.values(routingTables as Record<string, unknown>)
      .filter((t): t is PgTable => t instanceof PgTable)
      .map((t) => getTableConfig(t).name)
      .filter((t) => !UNAUDITED_TABLES.includes(t));
    expect(tables.length).toBeGreaterThanOrEqual(5);
    const rows = await d.ctx.database.sql<{ table: string }[]>`
      select c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
       where t.tgfoid = 'capconduit_audit'::regproc`;
    const audited = new Set(rows.map((r) => r.table));
    expect(tables.filter((t) => !audited.has(t))).toEqual([]);
  });
});
