// A Stasis app lives in the simulator as in Asterisk's registry: while a WebSocket holds it, and
// after that only while channels it holds are up; then it is gone (GET /applications/{app} 404)
// and its event filter with it, so the next WebSocket for the name starts with none.
import { describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import type { Simulator } from '../../src/simulator/index.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp, startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const sim = () => startSim(cleanup);
const hold = (s: Simulator, app: string) => holdApp(s, app, cleanup);

const ari = async (s: Simulator, method: string, path: string, body?: unknown) => {
  const r = await fetch(`${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  return { status: r.status, body: (r.status === 204 ? null : await r.json()) as Record<string, unknown> };
};

const closed = (ws: WebSocket) =>
  new Promise((r) => {
    ws.once('close', r);
    ws.close();
  });

describe('simulator: a Stasis app and its event filter live as long as Asterisk keeps the app', () => {
  it('is gone with its filter once no WebSocket holds it', async () => {
    const s = await sim();
    const ws = await hold(s, 'flt');
    const set = await ari(s, 'PUT', 'applications/flt/eventFilter', { allowed: [{ type: 'StasisStart' }] });
    expect(set.body.events_allowed).toEqual([{ type: 'StasisStart' }]);
    await closed(ws);
    await waitFor(async () => (await ari(s, 'GET', 'applications/flt')).status === 404);
    expect((await ari(s, 'GET', 'applications')).body).toEqual([]);
    await hold(s, 'flt');
    expect((await ari(s, 'GET', 'applications/flt')).body).toMatchObject({ events_allowed: [] });
  });

  it('is kept, filter and all, while a channel it holds is up, and goes with the last one', async () => {
    const s = await sim();
    const ws = await hold(s, 'keep');
    await ari(s, 'PUT', 'applications/keep/eventFilter', { disallowed: [{ type: 'ChannelVarset' }] });
    const made = await ari(
      s,
      'POST',
      'channels/create?endpoint=Local/wait@nowhere&app=keep&channelId=kept-1',
    );
    expect(made.status).toBe(200);
    await closed(ws);
    // Still known (inactive) while its channel is up; the next WebSocket finds the filter as it was.
    expect((await ari(s, 'GET', 'applications/keep')).body).toMatchObject({
      events_disallowed: [{ type: 'ChannelVarset' }],
    });
    expect((await ari(s, 'DELETE', 'channels/kept-1')).status).toBe(204);
    await waitFor(async () => (await ari(s, 'GET', 'applications/keep')).status === 404);
  });
});
