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

/** Reads an int parameter as given (atoi), 0 when absent: Asterisk applies no documented default. */
const int = (a: Args, name: string) => (a.given?.has(name) ? Number(a[name]) : 0);

/** Queues a playback on a channel or bridge (stasis_app_control_play_uri) and answers it "queued". */
export function playOn(target: string, app: string | null, a: Args, s: AriState, id?: string): Reply {
  if (int(a, 'skipms') < 0) return err(400, 'skipms cannot be negative');
  if (int(a, 'offsetms') < 0) return err(400, 'offsetms cannot be negative');
  const media = (a.media as string[] | undefined) ?? [];
  if (!media.length) return err(500, 'Failed to queue media for playback');
  const p = s.media.playbacks.play({
    id: id ?? randomUUID(),
    target_uri: target,
    app,
    medias: media,
    language: (a.lang as string | undefined) || 'en',
    skipms: int(a, 'skipms'),
    offsetms: int(a, 'offsetms'),
  });
  return { status: 201, body: s.media.playbacks.json(p) };
}

/** What stasis_app_recording_termination_parse accepts (case-insensitive; empty is none). */
const TERMINATE_ON = /^(|none|any|\*|#)$/i;
/** What stasis_app_recording_if_exists_parse accepts (case-insensitive; empty is fail). */
const IF_EXISTS = /^(|fail|overwrite|append)$/i;

/**
 * The options checks shared by channel and bridge recording, in Asterisk's order after the
 * target's own (terminateOn, ifExists; then stasis_app_control_record's: an empty name, a name
 * leaving the recordings directory, a name in use), and the recording queued, answered "queued".
 */
export function recordOn(target: string, app: string | null, a: Args, s: AriState): Reply {
  const badFormat = !RECORD_FORMATS.has((a.format as string | undefined) ?? '');
  const bridge = target.startsWith('bridge:');
  // A bridge's record checks the format first; a channel's after terminateOn and ifExists.
  if (bridge && badFormat) return err(422, 'specified format is unknown on this system');
  if (!TERMINATE_ON.test((a.terminateOn as string | undefined) ?? '')) return err(400, 'terminateOn invalid');
  const ifExists = ((a.ifExists as string | undefined) ?? '').toLowerCase() || 'fail';
  if (!IF_EXISTS.test(ifExists)) return err(400, 'ifExists invalid');
  if (badFormat) return err(422, 'specified format is unknown on this system');
  const name = (a.name as string | undefined) ?? '';
  const format = a.format as string;
  if (!name || int(a, 'maxDurationSeconds') < 0 || int(a, 'maxSilenceSeconds') < 0)
    return err(500, 'Error parsing request');
  // ast_safe_mkdir refuses a directory outside the recordings directory (EPERM).
  if (escapes(name)) return err(400, 'Recording name invalid');
  if ((ifExists === 'fail' && s.media.stored.has(name)) || s.media.recordings.live.has(name))
    return err(409, `Recording '${name}' already exists and can not be overwritten`);
  const r = s.media.recordings.record({
    name,
    format,
    target_uri: target,
    app,
    maxDurationSeconds: int(a, 'maxDurationSeconds'),
    maxSilenceSeconds: int(a, 'maxSilenceSeconds'),
    append: ifExists === 'append' && s.media.stored.has(name),
  });
  return { status: 201, body: s.media.recordings.json(r) };
}

/** Whether a recording name's directory resolves outside the recordings directory. */
function escapes(name: string): boolean {
  let depth = 0;
  const dirs = name.split('/').slice(0, -1);
  if (name.startsWith('/')) return false; // joined as <dir>//name: still inside
  for (const d of dirs) {
    if (d === '..') depth--;
    else if (d && d !== '.') depth++;
    if (depth < 0) return true;
  }
  return false;
}

/** An operation find_control and channel_state_invalid guard (404, 409, 412), answered 204. */
const flag = (f: (c: SimChannel, s: AriState) => void) =>
  answered((c, _a, s) => {
    f(c, s);
    return noContent;
  });

/** mute/unmute: the direction is required (no default is filled in) and one of in, out, both. */
const direction = (a: Args): Reply | null => {
  const d = a.given?.has('direction') ? String(a.direction ?? '') : '';
  if (!d) return err(400, 'Direction is required');
  return ['in', 'out', 'both'].includes(d) ? null : err(400, 'Invalid direction specified');
};

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
  redirect: answered((c, a) => {
    const endpoint = (a.endpoint as string | undefined) ?? '';
    if (!endpoint) return err(400, "Required parameter 'endpoint' not provided.");
    const slash = endpoint.indexOf('/');
    if (slash <= 0) return err(422, `Endpoint parameter '${endpoint}' does not contain tech/resource`);
    if (slash === endpoint.length - 1)
      return err(422, `No resource provided in endpoint parameter '${endpoint}'`);
    const tech = endpoint.slice(0, slash);
    const mine = c.name.split('/')[0]!;
    // strncasecmp over the given technology's length, as resource_channels.c compares them.
    if (mine.slice(0, tech.length).toLowerCase() !== tech.toLowerCase())
      return err(422, `Endpoint technology '${tech}' does not match channel technology '${mine}'`);
    return noContent;
  }),
  progress: flag(() => {}),
  sendDTMF: answered((_c, a) => (a.dtmf ? noContent : err(400, 'DTMF is required'))),
  mute: answered((_c, a) => direction(a) ?? noContent),
  unmute: answered((_c, a) => direction(a) ?? noContent),
  hold: flag((c, s) => s.model.event(s.model.target(c), 'ChannelHold', { channel: s.model.json(c) })),
  unhold: flag((c, s) => s.model.event(s.model.target(c), 'ChannelUnhold', { channel: s.model.json(c) })),
  // Music on hold and silence are generated into the channel: ARI reports neither. A generator
  // replaces the one before it (an in-band ring tone).
  startMoh: flag((c) => {
    c.moh = true;
    if (c.ringback === 'inband') c.ringback = undefined;
  }),
  stopMoh: flag((c) => {
    c.moh = false;
  }),
  startSilence: flag(() => {}),
  stopSilence: flag(() => {}),
  play: answered((c, a, s) => playOn(`channel:${c.id}`, s.model.target(c), a, s)),
  playWithId: answered((c, a, s) =>
    playOn(`channel:${c.id}`, s.model.target(c), a, s, a.playbackId as string),
  ),
  // Recording checks its durations before the channel, and answers a channel not yet up itself.
  record: (a, s) => {
    if (int(a, 'maxDurationSeconds') < 0) return err(400, 'max_duration_seconds cannot be negative');
    if (int(a, 'maxSilenceSeconds') < 0) return err(400, 'max_silence_seconds cannot be negative');
    return inStasis((c) => recordOn(`channel:${c.id}`, s.model.target(c), a, s))(a, s);
  },
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
