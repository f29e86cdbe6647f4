// /bridges media and variables: music on hold, play, record, video source, bridge variables.
import { bodyVariables, noContent, withBridge } from './guards.ts';
import { playOn, recordOn } from './channel-media.ts';
import type { bridgesOps } from './operations.ts';
import { err, type Handler } from './spec.ts';
import type { AriState } from './state.ts';

type Handlers = Partial<Record<keyof typeof bridgesOps, Handler<AriState>>>;

const bridgeApp = (s: AriState, channels: Set<string>) => {
  for (const id of channels) {
    const c = s.model.channels.get(id);
    if (c) return s.model.target(c);
  }
  return null;
};

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
  play: withBridge((b, a, s) => playOn(`bridge:${b.id}`, bridgeApp(s, b.channels), a, s)),
  playWithId: withBridge((b, a, s) =>
    playOn(`bridge:${b.id}`, bridgeApp(s, b.channels), a, s, a.playbackId as string),
  ),
  record: withBridge((b, a, s) => recordOn(`bridge:${b.id}`, bridgeApp(s, b.channels), a, s)),
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
