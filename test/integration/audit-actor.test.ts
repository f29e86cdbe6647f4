// The audit trail's actor travels as an argument, not in an async context: a request names its key
// (or console user) and the route hands it to the service. An ambient store (AsyncLocalStorage) would
// turn on Node's promise hooks for the whole process at the first request, and every promise of every
// call would pay for them from then on. Proved here on a daemon that serves API writes and routes calls
// at the same time: no store is ever entered, so a call's handling carries no actor, and an API write
// made while a call is up is still recorded as made by its key.
import { AsyncLocalStorage } from 'node:async_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createApiKey } from '../../src/auth/keys.ts';
import { flowForTests } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

// Spied before the daemon starts (flowForTests starts it in beforeAll), so nothing it does is missed.
const entered = [
  vi.spyOn(AsyncLocalStorage.prototype, 'run'),
  vi.spyOn(AsyncLocalStorage.prototype, 'enterWith'),
];

describe('audit actor without an async context', () => {
  const f = flowForTests({ settle: true });

  it("names an API write's key while a call is handled, and the call's handling enters no store", async () => {
    const { did, clients } = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 } }]);
    const ops = await createApiKey(f.d.ctx.database.db, { role: 'staff', label: 'ops desk' });
    const caller = f.sim.placeInboundCall({ did, callerNumber: '+12125550000' });
    await waitFor(() => f.routing.router!.live().find((x) => x.did === did && x.phase === 'bridged'));
    // Written while the call is bridged: the request's own actor, whatever the call path runs meanwhile.
    const r = await f.api(ops.key, 'PATCH', `/v1/links/${clients[0]!.linkId}`, { daily_cap: 7 });
    expect(r.statusCode, r.body).toBe(200);
    f.sim.hangup(caller);
    const [cdr] = await f.cdrsOnce(did);
    expect(cdr!.disposition).toBe('answered');

    const [row] = await f.d.ctx.database.sql<{ actor_type: string; actor_id: string; actor_label: string }[]>`
      select actor_type, actor_id, actor_label from audit_log
      where resource = 'link' and resource_id = ${clients[0]!.linkId} and action = 'update'`;
    expect(row).toEqual({ actor_type: 'api_key', actor_id: ops.id, actor_label: 'ops desk' });
    // Every request of the flow (the setup's writes, the PATCH, readiness) and the whole call ran
    // without entering an async context store.
    for (const spy of entered) expect(spy).not.toHaveBeenCalled();
  });

  it('no module of the daemon uses AsyncLocalStorage', () => {
    const root = join(import.meta.dirname, '../../src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(100);
    const users = files.filter((p) =>
      /AsyncLocalStorage|enterWith\(/.test(readFileSync(join(root, p), 'utf8')),
    );
    expect(users).toEqual([]);
  });
});
