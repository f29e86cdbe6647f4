// The client leg's create does not wait for Redis to answer the record write that names its
// attempt (one round trip less on the routing decision's path), but that write leaves first, and
// nothing else of the call — the leg's dial, the answer, the bridge, the end — goes ahead of its
// answer. Proved by holding back the answers of a call's record writes: the leg is made while the
// write is unanswered, and the call goes no further until the answer comes.
import { describe, expect, it, vi } from 'vitest';
import { HttpTransport } from '../../src/asterisk/transport-http.ts';
import { WsTransport } from '../../src/asterisk/transport-ws.ts';
import { CallStore } from '../../src/routing/call-store.ts';
import { flowForTests } from '../helpers/flow.ts';
import { waitFor } from '../helpers/wait.ts';

// Writes of records that name an attempt, while `hold` is on: sent to Redis at once, answered to
// the daemon only when the test releases them. `legsAtSend`: the client legs the simulator had then.
// `sent`: those writes and the legs' creates, in the order the daemon made them.
const hold = { on: false, endpoint: '' };
const sent: string[] = [];
const held: Array<{ legId: string; legsAtSend: string[]; release: () => void }> = [];
const save = CallStore.prototype.save;
let f: ReturnType<typeof flowForTests>;
vi.spyOn(CallStore.prototype, 'save').mockImplementation(async function (this: CallStore, s, now, prev) {
  const attempt = s.attempts.at(-1);
  const write = save.call(this, s, now, prev);
  if (!hold.on || !attempt || attempt.endedAt) return write;
  sent.push(`write ${attempt.legId}`);
  const legsAtSend = f.sim
    .liveChannels()
    .filter((c) => c.name.startsWith(`PJSIP/${hold.endpoint}`))
    .map((c) => c.id);
  // Listed at once (Redis may answer after the leg is made), answered once released.
  const released = new Promise<void>((release) => held.push({ legId: attempt.legId, legsAtSend, release }));
  const fields = await write;
  await released;
  return fields;
});

for (const T of [WsTransport, HttpTransport]) {
  const request = T.prototype.request;
  vi.spyOn(T.prototype, 'request').mockImplementation(function (this: unknown, ...a: unknown[]) {
    const [method, path, o] = T === WsTransport ? a.slice(1) : a;
    const id = (o as { query?: { channelId?: string } } | undefined)?.query?.channelId;
    if (hold.on && method === 'POST' && path === '/channels/create') sent.push(`create ${id}`);
    return (request as (...x: unknown[]) => unknown).apply(this, a);
  } as typeof request);
}

describe("a call's record write and its leg", () => {
  f = flowForTests({ settle: true });

  it('makes the leg before the write naming it is answered, and goes no further until it is', async () => {
    const { did, clients } = await f.campaign({}, [{ behaviour: { answerAfterMs: 20 } }]);
    hold.endpoint = clients[0]!.endpoint;
    hold.on = true;
    const caller = f.sim.placeInboundCall({ did, callerNumber: '+12125550000' });
    const leg = await waitFor(() =>
      f.sim.liveChannels().find((c) => c.name.startsWith(`PJSIP/${hold.endpoint}`)),
    );
    // The leg exists while the write that names it is still unanswered, and that write was sent
    // before Asterisk had the leg.
    expect(held.map((h) => h.legId)).toEqual([leg.id]);
    expect(held[0]!.legsAtSend).toEqual([]);
    expect(sent).toEqual([`write ${leg.id}`, `create ${leg.id}`]);
    // Nothing after the create goes ahead of the answer: the leg is not dialled, so not answered.
    const live = f.routing.router!.live().find((x) => x.did === did);
    expect(live?.phase).toBe('dialing');
    expect(f.sim.liveChannels().find((c) => c.id === leg.id)?.state).toBe('Down');

    hold.on = false;
    for (const h of held.splice(0)) h.release();
    await waitFor(() => f.routing.router!.live().find((x) => x.did === did && x.phase === 'bridged'));
    f.sim.hangup(caller);
    const [cdr] = await f.cdrsOnce(did);
    expect(cdr).toMatchObject({ disposition: 'answered', client_id: clients[0]!.clientId });
    expect(cdr!.attempts.map((a) => a.result)).toEqual(['answered']);
  });
});
