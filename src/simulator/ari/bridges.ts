// /bridges: list, create, get, destroy, add and remove channels.
import { randomUUID } from 'node:crypto';
import type { SimChannel } from '../model.ts';
import { bridgesOps } from './operations.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type Bridge = NonNullable<ReturnType<AriState['model']['bridges']['get']>>;

const withBridge =
  (f: (b: Bridge, a: Args, s: AriState) => Reply): Handler<AriState> =>
  (a, s) => {
    const b = s.model.bridges.get(a.bridgeId as string);
    return b ? f(b, a, s) : err(404, 'Bridge not found');
  };

const createBridge: Handler<AriState> = (a, s) => {
  const bid = (a.bridgeId as string | undefined) ?? randomUUID();
  if (s.model.bridges.has(bid)) return err(409, 'Bridge with this id already exists');
  s.model.bridges.set(bid, {
    id: bid,
    type: (a.type as string | undefined) || 'mixing',
    channels: new Set(),
    creationtime: new Date().toISOString(),
  });
  return { status: 200, body: s.model.bridgeJson(bid) };
};

export const bridgeRoutes = bind<AriState, typeof bridgesOps>(bridgesOps, {
  list: (_a, s) => ({ status: 200, body: [...s.model.bridges.keys()].map((b) => s.model.bridgeJson(b)) }),
  create: createBridge,
  get: withBridge((b, _a, s) => ({ status: 200, body: s.model.bridgeJson(b.id) })),
  destroy: withBridge((b, _a, s) => {
    for (const cid of [...b.channels]) {
      const c = s.model.channels.get(cid);
      if (c) s.model.leaveBridge(c);
    }
    s.model.bridges.delete(b.id);
    return { status: 204 };
  }),
  addChannel: withBridge((b, a, s) => {
    const ids = (a.channel as string[] | undefined) ?? [];
    if (!ids.length) return err(400, 'channel is required');
    const chans = ids.map((x) => s.model.channels.get(x));
    if (chans.some((c) => !c)) return err(400, 'Channel not found');
    if (chans.some((c) => !c!.app)) return err(422, 'Channel not in Stasis application');
    for (const c of chans as SimChannel[]) {
      if (c.bridge === b.id) continue;
      if (c.bridge) s.model.leaveBridge(c);
      c.bridge = b.id;
      b.channels.add(c.id);
      s.model.emit('bridge-enter', c, b.id, b.channels.size);
      s.model.event(c.app, 'ChannelEnteredBridge', {
        bridge: s.model.bridgeJson(b.id),
        channel: s.model.json(c),
      });
    }
    return { status: 204 };
  }),
  removeChannel: withBridge((b, a, s) => {
    const c = s.model.channels.get(((a.channel as string[] | undefined) ?? [])[0] ?? '');
    if (!c) return err(400, 'Channel not found');
    if (c.bridge !== b.id) return err(422, 'Channel not in this bridge');
    s.model.leaveBridge(c);
    return { status: 204 };
  }),
});
