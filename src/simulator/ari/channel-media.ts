// /channels media and signalling operations: redirect, progress, DTMF, mute, hold, music on hold,
// silence, play, record, snoop, external media, variables in bulk, RTP statistics. Media is
// simulated by time (media.ts); the statuses and messages are resource_channels.c's.
import { randomUUID } from 'node:crypto';
import type { SimChannel } from '../model.ts';
import { answered, inStasis, noContent, withChannel } from './guards.ts';
import type { channelsOps } from './operations.ts';
import { type Args, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type Handlers = Partial<Record<keyof typeof channelsOps, Handler<AriState>>>;

/** Formats a recording can be written in (those Asterisk ships format modules for). */
export const RECORD_FORMATS = new Set([
  'wav',
  'wav16',
  'gsm',
  'ulaw',
  'alaw',
  'sln',
  'sln16',
  'g722',
  'g729',
  'ogg',
]);

export function playOn(target: string, app: string | null, a: Args, s: AriState, id?: string): Reply {
  if (Number(a.skipms ?? 3000) < 0) return err(400, 'skipms cannot be negative');
  if (Number(a.offsetms ?? 0) < 0) return err(400, 'offsetms cannot be negative');
  const media = (a.media as string[] | undefined) ?? [];
  if (!media.length) return err(400, 'media cannot be empty');
  const p = s.media.play(target, app, media, (a.lang as string | undefined) || 'en', id ?? randomUUID());
  return { status: 201, body: s.media.json(p) };
}

export function recordOn(target: string, app: string | null, a: Args, s: AriState): Reply {
  const name = (a.name as string | undefined) ?? '';
  if (!name) return err(400, 'Recording name invalid');
  if (Number(a.maxDurationSeconds ?? 0) < 0) return err(400, 'max_duration_seconds cannot be negative');
  if (Number(a.maxSilenceSeconds ?? 0) < 0) return err(400, 'max_silence_seconds cannot be negative');
  if (!['none', 'any', '*', '#'].includes((a.terminateOn as string | undefined) ?? 'none'))
    return err(400, 'terminateOn invalid');
  const ifExists = (a.ifExists as string | undefined) ?? 'fail';
  if (!['fail', 'overwrite', 'append'].includes(ifExists)) return err(400, 'ifExists invalid');
  const format = (a.format as string | undefined) ?? '';
  if (!RECORD_FORMATS.has(format)) return err(422, 'specified format is unknown on this system');
  if (s.media.live.has(name) || (ifExists === 'fail' && s.media.stored.has(name)))
    return err(409, `Recording '${name}' already exists and can not be overwritten`);
  const r = s.media.record({
    name,
    format,
    target_uri: target,
    app,
    maxDurationSeconds: Number(a.maxDurationSeconds ?? 0),
    append: ifExists === 'append' && s.media.stored.has(name),
  });
  return { status: 201, body: s.media.recordingJson(r) };
}

const flag = (f: (c: SimChannel, s: AriState) => void) =>
  inStasis((c, _a, s) => {
    f(c, s);
    return noContent;
  });

const direction = (a: Args): Reply | null =>
  ['in', 'out', 'both'].includes((a.direction as string | undefined) ?? 'both')
    ? null
    : err(400, 'Invalid direction specified');

function snoop(a: Args, s: AriState, c: SimChannel): Reply {
  const app = a.app as string | undefined;
  if (!app) return err(400, 'app cannot be empty');
  for (const k of ['spy', 'whisper'] as const)
    if (!['none', 'in', 'out', 'both'].includes((a[k] as string | undefined) ?? 'none'))
      return err(400, `Invalid ${k} direction specified`);
  if ((a.spy ?? 'none') === 'none' && (a.whisper ?? 'none') === 'none')
    return err(400, 'Snoop channel could not be created');
  const id = (a.snoopId as string | undefined) ?? randomUUID();
  const sn = s.model.create({ id, name: s.model.nextName(`Snoop/${c.id}`), state: 'Up' });
  sn.owner = app;
  const body = s.model.json(sn);
  s.model.enterStasis(sn, app, ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean));
  // A snoop lives as long as the channel it listens to.
  s.model.onceExit(c.id, () => s.model.hangup(sn.id, 16));
  return { status: 200, body };
}

export const channelMediaHandlers: Handlers = {
  redirect: inStasis((c, a) => {
    const endpoint = (a.endpoint as string | undefined) ?? '';
    if (!endpoint) return err(400, "Required parameter 'endpoint' not provided.");
    const [tech, resource] = endpoint.split('/', 2);
    if (resource === undefined)
      return err(422, `Endpoint parameter '${endpoint}' does not contain tech/resource`);
    if (!resource) return err(422, `No resource provided in endpoint parameter '${endpoint}'`);
    const mine = c.name.split('/')[0]!;
    if (tech!.toLowerCase() !== mine.toLowerCase())
      return err(422, `Endpoint technology '${tech}' does not match channel technology '${mine}'`);
    return noContent;
  }),
  progress: inStasis(() => noContent),
  sendDTMF: inStasis((_c, a) => (a.dtmf ? noContent : err(400, 'DTMF is required'))),
  mute: inStasis((_c, a) => direction(a) ?? noContent),
  unmute: inStasis((_c, a) => direction(a) ?? noContent),
  hold: flag((c, s) => s.model.event(s.model.target(c), 'ChannelHold', { channel: s.model.json(c) })),
  unhold: flag((c, s) => s.model.event(s.model.target(c), 'ChannelUnhold', { channel: s.model.json(c) })),
  startMoh: flag(() => {}),
  stopMoh: flag(() => {}),
  startSilence: flag(() => {}),
  stopSilence: flag(() => {}),
  play: answered((c, a, s) => playOn(`channel:${c.id}`, s.model.target(c), a, s)),
  playWithId: answered((c, a, s) =>
    playOn(`channel:${c.id}`, s.model.target(c), a, s, a.playbackId as string),
  ),
  record: answered((c, a, s) => recordOn(`channel:${c.id}`, s.model.target(c), a, s)),
  getChannelVars: withChannel((c, a) => {
    const names = (a.variables as string[] | undefined) ?? [];
    if (!names.length) return err(400, 'Variable names are required');
    const out: Record<string, string> = {};
    for (const n of names) {
      if (!c.vars.has(n)) return err(404, 'Provided variable was not found');
      out[n] = c.vars.get(n)!;
    }
    return { status: 200, body: { variables: out } };
  }, 'Provided channel was not found'),
  setChannelVars: inStasis((c, a, s) => {
    const vars = a.body?.variables;
    if (vars === undefined) return err(400, "The 'variables' field is required");
    if (!vars || typeof vars !== 'object' || Array.isArray(vars))
      return err(400, "The 'variables' field must be a JSON object");
    for (const [k, v] of Object.entries(vars as Record<string, unknown>)) {
      const value = typeof v === 'object' && v ? String((v as { value?: unknown }).value ?? '') : String(v);
      c.vars.set(k, value);
      s.model.event(s.model.target(c), 'ChannelVarset', { variable: k, value, channel: s.model.json(c) });
    }
    return noContent;
  }),
  snoopChannel: withChannel((c, a, s) => snoop(a, s, c)),
  snoopChannelWithId: withChannel((c, a, s) => snoop(a, s, c)),
  rtpstatistics: withChannel(() => err(404, 'Statistics not found')),
  externalMedia: (a, s) => {
    const app = a.app as string | undefined;
    if (!app) return err(400, 'app cannot be empty');
    const transport = (a.transport as string | undefined) ?? 'udp';
    const encapsulation = (a.encapsulation as string | undefined) ?? 'rtp';
    if (!a.format) return err(400, 'format cannot be empty');
    if (transport !== 'websocket' && !a.external_host)
      return err(400, 'external_host is required for all but websocket server connections');
    if (encapsulation === 'rtp' && transport !== 'udp')
      return err(400, "transport must be 'udp' for rtp encapsulation");
    if (encapsulation === 'audiosocket' && transport !== 'tcp')
      return err(400, "transport must be 'tcp' for audiosocket encapsulation");
    const id = (a.channelId as string | undefined) ?? randomUUID();
    if (s.model.channels.has(id)) return err(409, 'Channel with given unique ID already exists');
    const tech =
      encapsulation === 'audiosocket'
        ? 'AudioSocket'
        : transport === 'websocket'
          ? 'WebSocket'
          : 'UnicastRTP';
    const c = s.model.create({
      id,
      name: s.model.nextName(`${tech}/${a.external_host ?? 'ws'}`),
      state: 'Up',
    });
    c.owner = app;
    const body = s.model.json(c);
    s.model.enterStasis(c, app, ((a.data as string | undefined) ?? '').split(',').filter(Boolean));
    return { status: 200, body };
  },
  transfer_progress: inStasis((_c, a) => (a.states ? noContent : err(400, 'states must not be empty'))),
};
