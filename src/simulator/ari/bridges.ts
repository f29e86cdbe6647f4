// /bridges: list, create, get, destroy, add and remove channels, and (bridge-media.ts) media.
// Statuses and messages are resource_bridges.c's.
import { randomUUID } from 'node:crypto';
import type { SimChannel } from '../model.ts';
import { bridgeMediaHandlers } from './bridge-media.ts';
import { bridgesOps } from './operations.ts';
import { withBridge } from './guards.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

/** The flags stasis_app_bridge_create accepts in `type` (comma-separated). */
const BRIDGE_TYPES = new Set([
  'mixing',
  'holding',
  'dtmf_events',
  'proxy_media',
  'video_sfu',
  'video_single',
  'sdp_label',
]);

const createBridge: Handler<AriState> = (a, s) => {
  const id = a.bridgeId as string | undefined;
  if (id && s.model.bridges.has(id)) return err(409, `Bridge with id '${id}' already exists`);
  const type = (a.type as string | undefined) ?? '';
  const flags = type
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (flags.some((f) => !BRIDGE_TYPES.has(f)))
    return err(500, `Unable to create bridge. Possible duplicate bridge id '${id ?? '(null)'}'`);
  const kind = flags.includes('holding') ? 'holding' : 'mixing';
  const b = s.model.createBridge(id ?? randomUUID(), kind, (a.name as string | undefined) ?? '');
  return { status: 200, body: s.model.bridgeJson(b.id) };
};

/** The channels of an add/remove: 400 when one is missing, 422 when one is not in Stasis. */
function channelsOf(a: Args, s: AriState): SimChannel[] | Reply {
  const ids = (a.channel as string[] | undefined) ?? [];
  if (!ids.length) return err(400, 'Missing parameter channel');
  const chans = ids.map((x) => s.model.channels.get(x));
  if (chans.some((c) => !c)) return err(400, 'Channel not found');
  if (chans.some((c) => !c!.app)) return err(422, 'Channel not in Stasis application');
  return chans as SimChannel[];
}

export const bridgeRoutes = bind<AriState, typeof bridgesOps>(bridgesOps, {
  list: (_a, s) => ({ status: 200, body: [...s.model.bridges.keys()].map((b) => s.model.bridgeJson(b)) }),
  create: createBridge,
  createWithId: createBridge,
  get: withBridge((b, _a, s) => ({ status: 200, body: s.model.bridgeJson(b.id) })),
  destroy: withBridge((b, _a, s) => {
    s.model.destroyBridge(b);
    return { status: 204 };
  }),
  addChannel: withBridge((b, a, s) => {
    const chans = channelsOf(a, s);
    if (!Array.isArray(chans)) return chans;
    for (const c of chans) {
      // Adding a channel that is already in the bridge moves it out and back in, as Asterisk does.
      if (c.bridge === b.id) s.model.leaveBridge(c);
      // absorbDTMF: the bridge features' dtmf_passthrough off for this channel's stay.
      c.absorbDtmf = a.absorbDTMF === true;
      s.model.enterBridge(c, b);
    }
    return { status: 204 };
  }),
  removeChannel: withBridge((b, a, s) => {
    const chans = channelsOf(a, s);
    if (!Array.isArray(chans)) return chans;
    if (chans.some((c) => c.bridge !== b.id)) return err(422, 'Channel not in this bridge');
    for (const c of chans) s.model.leaveBridge(c);
    return { status: 204 };
  }),
  ...bridgeMediaHandlers,
});
