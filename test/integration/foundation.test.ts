import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { type Daemon, startDaemon } from '../../src/main.ts';
import { freshDatabase, testConfig } from '../helpers/env.ts';

describe('daemon core', () => {
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let d: Daemon;
  let adminKey: string;
  beforeAll(async () => {
    db = await freshDatabase();
    const config = testConfig({ DATABASE_URL: db.url });
    d = await startDaemon(config, createLogger({ level: 'silent' }), [], { listen: false });
    adminKey = (await createApiKey(d.ctx.database.db, { role: 'admin' })).key;
  });
  afterAll(async () => {
    await d?.stop();
    await db?.drop();
  });

  it('serves /health, /ready, /metrics and /docs', async () => {
    expect((await d.app.inject('/health')).json()).toEqual({ status: 'ok' });
    const ready = await d.app.inject('/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json().checks).toMatchObject({ postgres: { ok: true }, redis: { ok: true } });
    const m = await d.app.inject('/metrics');
    expect(m.body).toContain('process_resident_memory_bytes');
    expect(m.body).toMatch(/capconduit_http_request_duration_seconds_count\{[^}]*route="\/ready"[^}]*\} 1/);
    const docs = await d.app.inject('/docs/json');
    expect(Object.keys(docs.json().paths)).toEqual(
      expect.arrayContaining(['/health', '/ready', '/metrics', '/v1/api-keys']),
    );
  });

  it('answers unknown routes with the error shape', async () => {
    const r = await d.app.inject('/nope');
    expect(r.statusCode).toBe(404);
    expect(r.json()).toEqual({ error: { code: 'ROUTE_NOT_FOUND', message: 'no route GET /nope' } });
  });

  it('authenticates with Bearer and X-API-Key', async () => {
    const a = await d.app.inject({ url: '/v1/whoami', headers: { authorization: `Bearer ${adminKey}` } });
    expect(a.json().role).toBe('admin');
    const b = await d.app.inject({ url: '/v1/whoami', headers: { 'x-api-key': adminKey } });
    expect(b.statusCode).toBe(200);
  });
});
