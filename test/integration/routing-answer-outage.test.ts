// Redis down at the very moment a call is answered (stopped as the client leg comes up): the CDR
// says answered, so the answer must still be counted — once Redis is back, before the slot's
// release (which would otherwise refund it) — and the totals agree with the answered CDRs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capBuckets } from '../../src/routing/decide.ts';
import { type Flow, startFlow } from '../helpers/flow.ts';
import { PrivateRedis } from '../helpers/redis-server.ts';
import { waitFor } from '../helpers/wait.ts';

describe('Redis down at the moment of answer', () => {
  let dir = '';
  let redisSrv: PrivateRedis;
  let f: Flow;
  beforeAll(async () => {
    // A Redis that keeps its data across a restart (as production's does).
    dir = mkdtempSync(join(tmpdir(), 'cc-redis-'));
    redisSrv = await PrivateRedis.create({ persistDir: dir });
    f = await startFlow({ REDIS_URL: redisSrv.url });
  });
  afterAll(async () => {
    await f?.stop();
    await redisSrv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const metric = async (prefix: string) => {
    const m = (await f.d.app.inject('/metrics')).body;
    return m
      .split('\n')
      .filter((l) => l.startsWith(prefix))
      .reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
  };

  it('the answer is counted once Redis is back, before the release: totals equal the answered CDRs', async () => {
    const c = await f.campaign({}, [
      { behaviour: { answerAfterMs: 30 }, link: { hourly_cap: 100, total_cap: 1000 } },
    ]);
    const { linkId, endpoint } = c.clients[0]!;
    let stopping: Promise<void> | null = null;
    f.sim.events.on(
      'ari-event',
      (_app: string, ev: { type: string; channel?: { name: string; state: string } }) => {
        if (stopping || ev.type !== 'ChannelStateChange') return;
        if (ev.channel?.state === 'Up' && ev.channel.name.startsWith(`PJSIP/${endpoint}-`))
          stopping = redisSrv.stop();
      },
    );
    const caller = f.sim.placeInboundCall({ did: c.did, callerNumber: '+12125553000' });
    await waitFor(() => stopping !== null);
    await stopping;
    // The daemon met Redis down when it counted the answer ...
    await waitFor(async () =>
      (await metric('capconduit_call_effect_failures_total{effect="mark_answered"')) >= 1 ? true : undefined,
    );
    // ... and the call goes on and ends while Redis is still down: its CDR says answered.
    f.sim.hangup(caller, 16);
    const [row] = await f.cdrsOnce(c.did);
    expect(row!.disposition).toBe('answered');
    await redisSrv.start();
    // Once Redis is back: the use counted (not refunded by the release), the slot free, and
    // PostgreSQL's total equal to the answered CDRs.
    await waitFor(async () => ((await f.routing.slots.live(linkId)) === 0 ? true : undefined));
    const counters = await f.routing.slots.counters(linkId, capBuckets('UTC', new Date(row!.started_at)));
    expect(counters.hourly).toBe(1);
    expect(counters.total).toBe(1);
    const sql = f.d.ctx.database.sql;
    const totals = async () => {
      const [t] = await sql<
        { n: number }[]
      >`select total_answered::int as n from campaign_links where id = ${linkId}`;
      const [a] = await sql<{ n: number }[]>`
        select count(*)::int as n from call_records, jsonb_array_elements(attempts) x
        where x->>'link_id' = ${linkId} and x->>'answered_at' is not null`;
      return { pg: t!.n, cdrs: a!.n };
    };
    const agreed = await waitFor(async () => {
      const t = await totals();
      return t.pg === t.cdrs ? t : undefined;
    }).catch(async (e) => {
      throw new Error(`${(e as Error).message}: ${JSON.stringify(await totals())}`);
    });
    expect(agreed).toEqual({ pg: 1, cdrs: 1 });
    expect(await metric('capconduit_slot_answer_retries_total')).toBeGreaterThanOrEqual(1);
  });
});
