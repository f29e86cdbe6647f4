// /bridges media and variables: music on hold, play, record, video source, bridge variables.
// A bridge plays through its announcer channel and records through a recorder channel of each
// recording (media-channels.ts), as resource_bridges.c does.
import type { SimBridge } from '../model.ts';
import { bodyVariables, noContent, withBridge } from './guards.ts';
import { int, MEDIA_FORMATS, queuePlayback, recordOn } from './channel-media.ts';
import { announcerOf, dropMediaChannel, mediaChannel } from './media-channels.ts';
import type { bridgesOps } from './operations.ts';
import { type Args, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type Handlers = Partial<Record<keyof typeof bridgesOps, Handler<AriState>>>;

/** ast_ari_response_alloc_failed: what a playback stasis_app_control_play_uri refuses answers. */
const allocFailed: Reply = { status: 500, body: { error: 'Allocation failed' } };

/**
 * ari_bridges_handle_play: queued on the bridge's announcer while it takes commands; otherwise the
 * announcer_format is checked (422), a new announcer joins the bridge, and the playback is queued
 * on it. A negative skipms or offsetms, or no media, makes stasis_app_control_play_uri refuse
 * (500 `Allocation failed`), a new announcer leaving the bridge again.
 */
function bridgePlay(b: SimBridge, a: Args, s: AriState, id?: string): Reply {
  const refused =
    int(a, 'skipms') < 0 || int(a, 'offsetms') < 0 || !((a.media as string[] | undefined) ?? []).length;
  const hearers = () => s.model.bridgeApps(b);
  const found = announcerOf(s, b);
  if (found)
    return refused ? allocFailed : queuePlayback(`bridge:${b.id}`, `channel:${found.id}`, hearers, a, s, id);
  const format = a.announcer_format as string | undefined;
  if (format && !MEDIA_FORMATS.has(format))
    return err(422, 'specified announcer_format is unknown on this system');
  const one = mediaChannel(s, 'Announcer', b);
  if (refused) {
    dropMediaChannel(s, one);
    return allocFailed;
  }
  return queuePlayback(`bridge:${b.id}`, `channel:${one.id}`, hearers, a, s, id);
}

export const bridgeMediaHandlers: Handlers = {
  startMoh: withBridge((b) => {
    b.moh = true;
    return noContent;
  }),
  stopMoh: withBridge((b) => {
    if (!b.moh) return err(409, "Bridge isn't playing music");
    b.moh = false;
    return noContent;
  }),
  play: withBridge((b, a, s) => bridgePlay(b, a, s)),
  playWithId: withBridge((b, a, s) => bridgePlay(b, a, s, a.playbackId as string)),
  record: withBridge((b, a, s) =>
    recordOn(
      `bridge:${b.id}`,
      () => s.model.bridgeApps(b),
      a,
      s,
      () => mediaChannel(s, 'Recorder', b),
    ),
  ),
  setVideoSource: withBridge((b, a, s) => {
    const c = s.model.channels.get(a.channelId as string);
    if (!c) return err(404, 'Channel not found');
    if (!c.app) return err(422, 'Channel not in Stasis application');
    if (c.bridge !== b.id) return err(422, 'Channel not in this bridge');
    return noContent;
  }),
  clearVideoSource: withBridge(() => noContent),
  // The variable name before the bridge, as resource_bridges.c checks them.
  getBridgeVar: (a, s) => {
    const v = a.variable as string | undefined;
    if (!v) return err(400, 'Variable name is required');
    return withBridge((b) =>
      b.vars.has(v)
        ? { status: 200, body: { value: b.vars.get(v) } }
        : err(404, 'Provided variable was not found'),
    )(a, s);
  },
  setBridgeVar: (a, s) => {
    const v = a.variable as string | undefined;
    if (!v) return err(400, 'Variable name is required');
    return withBridge((b) => {
      b.vars.set(v, (a.value as string | undefined) ?? '');
      return noContent;
    })(a, s);
  },
  getBridgeVars: (a, s) => {
    const names = (a.variables as string[] | undefined) ?? [];
    if (!names.length) return err(400, 'At least one variable name is required');
    const b = s.model.bridges.get(a.bridgeId as string);
    if (!b) return err(404, 'Provided bridge was not found');
    const out: Record<string, string> = {};
    for (const raw of names) {
      const n = raw.trim();
      if (!n) return err(400, 'Variable names are required');
      if (!b.vars.has(n)) return err(404, 'Provided variable was not found');
      out[n] = b.vars.get(n)!;
    }
    return { status: 200, body: { variables: out } };
  },
  setBridgeVars: (a, s) => {
    if (!a.body) return err(400, "The 'variables' field is required");
    const b = s.model.bridges.get(a.bridgeId as string);
    if (!b) return err(404, 'Provided bridge was not found');
    const vars = bodyVariables(a);
    if ('status' in vars) return vars;
    for (const [k, v] of vars) b.vars.set(k.trim(), v);
    return noContent;
  },
};
