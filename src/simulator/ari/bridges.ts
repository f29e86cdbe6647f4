// /bridges: list, create, get, destroy, add and remove channels, and (bridge-media.ts) media.
// Statuses and messages are resource_bridges.c's.
import { randomUUID } from 'node:crypto';
import type { SimBridge, SimChannel } from '../model.ts';
import { bridgeMediaHandlers } from './bridge-media.ts';
import { bridgesOps } from './operations.ts';
import { controlSync } from './control.ts';
import { noContent, withBridge } from './guards.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

const createBridge: Handler<AriState> = (a, s) => {
  const id = a.bridgeId as string | undefined;
  if (id && s.model.bridges.has(id)) return err(409, `Bridge with id '${id}' already exists`);
  const kind = bridgeKind((a.type as string | undefined) || 'mixing');
  if (!kind) return err(500, `Unable to create bridge. Possible duplicate bridge id '${id ?? '(null)'}'`);
  const b = s.model.createBridge(
    id ?? randomUUID(),
    kind.type,
    (a.name as string | undefined) ?? '',
    false,
    kind,
  );
  return { status: 200, body: s.model.bridgeJson(b.id) };
};

/**
 * bridge_create_common: the capabilities a `type` list asks for, read in its order (an unknown
 * word is ignored): `mixing` native, one-to-one and multimix, `holding` holding, `dtmf_events` and
 * `proxy_media` take native away from what came before them, `video_sfu` leaves multimix only,
 * `video_single` and `sdp_label` change no capability. None, or holding with mixing: no bridge.
 */
export function bridgeKind(type: string): {
  type: 'mixing' | 'holding';
  native: boolean;
  multimixOnly: boolean;
  videoMode: SimBridge['videoMode'];
} | null {
  let mixing = false;
  let native = false;
  let holding = false;
  let videoMode: SimBridge['videoMode'] = 'talker';
  for (const word of type.split(',').map((t) => t.trim())) {
    if (word === 'mixing') {
      mixing = true;
      native = true;
    } else if (word === 'holding') holding = true;
    else if (word === 'dtmf_events' || word === 'proxy_media') native = false;
    else if (word === 'video_sfu') videoMode = 'sfu';
    else if (word === 'video_single') videoMode = 'single';
  }
  if (videoMode === 'sfu') return { type: 'mixing', native: false, multimixOnly: true, videoMode };
  if ((!mixing && !holding) || (mixing && holding)) return null;
  return { type: holding ? 'holding' : 'mixing', native, multimixOnly: false, videoMode };
}

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
  // Each channel is added by a synchronous command on its control queue, one channel after the
  // other: the answer waits behind what a channel plays (stasis_app_control_add_channel_to_bridge).
  addChannel: withBridge(async (b, a, s) => {
    const chans = channelsOf(a, s);
    if (!Array.isArray(chans)) return chans;
    for (const c of chans) {
      // res_stasis_recording's add rule, checked as the command is queued: a channel with a
      // recording queued or running is refused; the channels before it stay added.
      if (s.media.recordings.onChannel(c.id)) return err(409, `Channel ${c.id} currently recording`);
      const absorb = a.absorbDTMF === true;
      // Still run for a channel leaving Stasis meanwhile (control_dispatch_all): it joins, and its
      // hangup or the end of its Stasis loop takes it out again.
      const add = () => {
        if (!s.model.channels.has(c.id) || !s.model.bridges.has(b.id)) return noContent;
        // Adding a channel that is already in the bridge moves it out and back in, as Asterisk does.
        if (c.bridge === b.id) s.model.leaveBridge(c);
        // absorbDTMF: the bridge features' dtmf_passthrough off for this channel's stay.
        c.absorbDtmf = absorb;
        s.model.enterBridge(c, b);
        return noContent;
      };
      // The command's result is not an error the answer reports (only the add rule's is).
      await controlSync(s, c, add, add, noContent);
    }
    return noContent;
  }),
  // Checked for every channel first (422), then each removed by a synchronous command of its own.
  removeChannel: withBridge(async (b, a, s) => {
    const chans = channelsOf(a, s);
    if (!Array.isArray(chans)) return chans;
    if (chans.some((c) => c.bridge !== b.id)) return err(422, 'Channel not in this bridge');
    for (const c of chans)
      await controlSync(
        s,
        c,
        () => {
          // app_control_remove_channel_from_bridge: only from the bridge it is still in.
          if (c.bridge === b.id) s.model.leaveBridge(c);
          return noContent;
        },
        noContent,
        noContent,
      );
    return noContent;
  }),
  ...bridgeMediaHandlers,
});
