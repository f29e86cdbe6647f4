// /channels media and signalling operations: redirect, progress, DTMF, mute, hold, music on hold,
// silence, play, record, snoop, external media, variables in bulk, RTP statistics. Media is
// simulated by time (media.ts); the statuses and messages are resource_channels.c's.
import { createHash, randomUUID } from 'node:crypto';
import type { SimChannel } from '../model.ts';
import { controlAsync, controlDone, controlSyncEach, dtmfPlan } from './control.ts';
import { dropMediaChannel } from './media-channels.ts';
import type { Hearers } from './playback.ts';
import { answered, bodyVariables, inStasis, noContent, withChannel } from './guards.ts';
import { readVariable, setVariable } from './variables.ts';
import type { channelsOps } from './operations.ts';
import { type Args, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

type Handlers = Partial<Record<keyof typeof channelsOps, Handler<AriState>>>;

/**
 * Media formats the simulator's Asterisk has (ast_format_cache_get: an originate's `formats`, a
 * bridge's announcer_format and recorder_format).
 */
export const MEDIA_FORMATS = new Set([
  'ulaw',
  'alaw',
  'gsm',
  'g722',
  'g729',
  'slin',
  'slin16',
  'opus',
  'h264',
  'vp8',
]);

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
export const int = (a: Args, name: string) => (a.given?.has(name) ? Number(a[name]) : 0);

/** Queues a playback on a channel (stasis_app_control_play_uri) and answers it "queued". */
function playOn(c: SimChannel, a: Args, s: AriState, id?: string): Reply {
  if (int(a, 'skipms') < 0) return err(400, 'skipms cannot be negative');
  if (int(a, 'offsetms') < 0) return err(400, 'offsetms cannot be negative');
  const media = (a.media as string[] | undefined) ?? [];
  if (!media.length) return err(500, 'Failed to queue media for playback');
  return queuePlayback(
    `channel:${c.id}`,
    `channel:${c.id}`,
    () => s.model.target(c),
    a,
    s,
    id,
    controlDone(s, c),
  );
}

/**
 * A playback queued on `queue` (a channel's control), answered 201 "queued"; `refused` when the
 * control is done: answered the same, never run.
 */
export function queuePlayback(
  target: string,
  queue: string,
  hearers: Hearers,
  a: Args,
  s: AriState,
  id?: string,
  refused = false,
): Reply {
  const p = s.media.playbacks.play({
    id: id ?? randomUUID(),
    target_uri: target,
    queue,
    hearers,
    medias: (a.media as string[] | undefined) ?? [],
    language: (a.lang as string | undefined) || 'en',
    skipms: int(a, 'skipms'),
    offsetms: int(a, 'offsetms'),
    refused,
  });
  return { status: 201, body: s.media.playbacks.json(p) };
}

/** What stasis_app_recording_termination_parse accepts (case-insensitive; empty is none). */
const TERMINATE_ON = /^(|none|any|\*|#)$/i;
/** record_file's acceptdtmf for a terminateOn: none, every digit, or the one given. */
const acceptDtmf = (t: string) => (/^(|none)$/i.test(t) ? '' : /^any$/i.test(t) ? '#*0123456789abcdABCD' : t);

/** What stasis_app_recording_if_exists_parse accepts (case-insensitive; empty is fail). */
const IF_EXISTS = /^(|fail|overwrite|append)$/i;

/**
 * The options checks shared by channel and bridge recording, in Asterisk's order after the
 * target's own (terminateOn, ifExists; then stasis_app_control_record's: an empty name, a name
 * leaving the recordings directory, a name in use), and the recording queued, answered "queued".
 * A bridge's record checks its formats first, then makes its recorder channel (`recorder`), which
 * a later refusal hangs up again; a channel's checks the format after terminateOn and ifExists.
 */
export function recordOn(
  target: string,
  hearers: Hearers,
  a: Args,
  s: AriState,
  recorder?: () => SimChannel,
): Reply {
  const badFormat = !RECORD_FORMATS.has((a.format as string | undefined) ?? '');
  if (recorder && badFormat) return err(422, 'specified format is unknown on this system');
  const recorderFormat = a.recorder_format as string | undefined;
  if (recorder && recorderFormat && !MEDIA_FORMATS.has(recorderFormat))
    return err(422, 'specified recorder_format is unknown on this system');
  const one = recorder?.();
  const refuse = (r: Reply) => {
    if (one) dropMediaChannel(s, one);
    return r;
  };
  if (!TERMINATE_ON.test((a.terminateOn as string | undefined) ?? ''))
    return refuse(err(400, 'terminateOn invalid'));
  const ifExists = ((a.ifExists as string | undefined) ?? '').toLowerCase() || 'fail';
  if (!IF_EXISTS.test(ifExists)) return refuse(err(400, 'ifExists invalid'));
  if (badFormat) return err(422, 'specified format is unknown on this system');
  const name = (a.name as string | undefined) ?? '';
  const format = a.format as string;
  if (!name || int(a, 'maxDurationSeconds') < 0 || int(a, 'maxSilenceSeconds') < 0)
    return refuse(err(500, 'Error parsing request'));
  // ast_safe_mkdir refuses a directory outside the recordings directory (EPERM).
  if (escapes(name)) return refuse(err(400, 'Recording name invalid'));
  if ((ifExists === 'fail' && s.media.stored.has(name)) || s.media.recordings.live.has(name))
    return refuse(err(409, `Recording '${name}' already exists and can not be overwritten`));
  const r = s.media.recordings.record({
    name,
    format,
    target_uri: target,
    queue: one ? `channel:${one.id}` : target,
    hearers,
    maxDurationSeconds: int(a, 'maxDurationSeconds'),
    maxSilenceSeconds: int(a, 'maxSilenceSeconds'),
    append: ifExists === 'append' && s.media.stored.has(name),
    terminateOn: acceptDtmf((a.terminateOn as string | undefined) ?? ''),
    beep: a.beep === true || a.beep === 'true',
    // A channel whose control is done: answered "queued", never run (control.ts).
    refused: !one && target.startsWith('channel:') && s.doneControls.has(target.slice('channel:'.length)),
  });
  return { status: 201, body: s.media.recordings.json(r) };
}

/** Whether a recording name's directory resolves outside the recordings directory. */
export function escapes(name: string): boolean {
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

/**
 * An operation find_control and channel_state_invalid guard (404, 409, 412), answered 204 at once
 * and run on the channel's control queue in its turn.
 */
const flag = (f: (c: SimChannel, s: AriState) => void) =>
  answered((c, _a, s) => {
    controlAsync(s, c, () => f(c, s));
    return noContent;
  });

/** A command with no effect the simulator shows (mute, unmute), still taking its turn: 204. */
function queued(c: SimChannel, s: AriState): Reply {
  controlAsync(s, c, () => {});
  return noContent;
}

/** app_control_dtmf: the digits reach the far side; through a Local pair, the other half reads them. */
function sendDtmf(c: SimChannel, a: Args, s: AriState): Reply {
  if (!a.dtmf) return err(400, 'DTMF is required');
  const plan = dtmfPlan(String(a.dtmf), {
    before: int(a, 'before'),
    between: int(a, 'between'),
    duration: int(a, 'duration'),
    after: int(a, 'after'),
  });
  controlAsync(
    s,
    c,
    () => {
      // ast_senddigit goes to the channel's technology, not through ast_write: the channel itself
      // reports nothing; a Local channel's other half reads a begin, then the end `duration` later.
      const far = c.peer ? s.model.channels.get(c.peer) : undefined;
      if (!far) return;
      for (const d of plan.digits) {
        s.model.later(far, d.at - d.duration, () => s.model.readDtmf(far, d.digit, null));
        s.model.later(far, d.at, () => s.model.readDtmf(far, d.digit, d.duration));
      }
    },
    { ms: plan.ms },
  );
  return noContent;
}

/** mute/unmute: the direction is required (no default is filled in) and one of in, out, both. */
const direction = (a: Args): Reply | null => {
  const d = a.given?.has('direction') ? String(a.direction ?? '') : '';
  if (!d) return err(400, 'Direction is required');
  return ['in', 'out', 'both'].includes(d) ? null : err(400, 'Invalid direction specified');
};

/** A snoop direction as resource_channels.c reads it (empty is none), or null when unknown. */
const snoopDirection = (v: unknown): string | null => {
  const d = v === undefined ? '' : String(v);
  return d === '' || d === 'none' ? 'none' : ['both', 'out', 'in'].includes(d) ? d : null;
};

/** ari_channels_handle_snoop_channel: the directions and app first, then any channel (no Stasis needed). */
function snoop(a: Args, s: AriState): Reply {
  // No documented default is filled in: an absent direction is none.
  const spy = snoopDirection(a.given?.has('spy') ? a.spy : undefined);
  if (!spy) return err(400, 'Invalid direction specified for spy');
  const whisper = snoopDirection(a.given?.has('whisper') ? a.whisper : undefined);
  if (!whisper) return err(400, 'Invalid direction specified for whisper');
  if (spy === 'none' && whisper === 'none')
    return err(400, 'Direction must be specified for at least spy or whisper');
  const app = a.app as string | undefined;
  if (!app) return err(400, 'Application name is required');
  const c = s.model.channels.get(a.channelId as string);
  if (!c) return err(404, 'Provided channel was not found');
  const id = (a.snoopId as string | undefined) ?? randomUUID();
  const sn = s.model.create({ id, name: s.model.nextName(`Snoop/${c.id}`), state: 'Up' });
  sn.owner = app;
  const body = s.model.json(sn);
  // The snoop thread runs the app itself, not the Stasis application: no STASISSTATUS.
  s.model.enterStasis(sn, app, ((a.appArgs as string | undefined) ?? '').split(',').filter(Boolean), false);
  // A snoop lives as long as the channel it listens to.
  s.model.onceExit(c.id, () => s.model.hangup(sn.id, 16));
  return { status: 200, body };
}

/** Channel technologies with RTP (their channel driver has RTP glue); the others answer 403. */
const RTP_TECHS = new Set(['PJSIP', 'UnicastRTP']);

/**
 * RTP statistics by time: a channel with RTP sends and receives a 20 ms packet (160 bytes of
 * G.711) every 20 ms while it is up, with no loss and no jitter.
 */
function rtpStatistics(c: SimChannel, s: AriState): Reply {
  const tech = c.name.split('/')[0]!;
  if (!RTP_TECHS.has(tech)) return err(403, 'Unsupported channel type');
  if (c.state !== 'Up' || c.upAt === undefined) return err(404, 'RTP info not found');
  const packets = Math.floor((Date.now() - c.upAt) / 20);
  const ssrc = (x: string) => Number.parseInt(createHash('sha1').update(x).digest('hex').slice(0, 8), 16);
  void s;
  return {
    status: 200,
    body: {
      txcount: packets,
      rxcount: packets,
      txjitter: 0,
      rxjitter: 0,
      txploss: 0,
      rxploss: 0,
      local_ssrc: ssrc(`${c.id}:local`),
      remote_ssrc: ssrc(`${c.id}:remote`),
      txoctetcount: packets * 160,
      rxoctetcount: packets * 160,
      channel_uniqueid: c.id,
    },
  };
}

const TRANSFER_STATES = /^(channel_progress|channel_answered|channel_unavailable|channel_declined)$/i;

export const channelMediaHandlers: Handlers = {
  redirect: answered((c, a, s) => {
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
    // app_control_redirect takes its turn on the queue (its transfer is not simulated).
    return queued(c, s);
  }),
  progress: flag(() => {}),
  sendDTMF: answered((c, a, s) => sendDtmf(c, a, s)),
  mute: answered((c, a, s) => direction(a) ?? queued(c, s)),
  unmute: answered((c, a, s) => direction(a) ?? queued(c, s)),
  // app_control_hold indicates hold to the far end (ast_indicate), which publishes nothing:
  // ChannelHold and ChannelUnhold report a far end holding (ast_queue_hold), never this.
  hold: flag(() => {}),
  unhold: flag(() => {}),
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
  play: answered((c, a, s) => playOn(c, a, s)),
  playWithId: answered((c, a, s) => playOn(c, a, s, a.playbackId as string)),
  // Recording checks its durations before the channel, and answers a channel not yet up itself.
  record: (a, s) => {
    if (int(a, 'maxDurationSeconds') < 0) return err(400, 'max_duration_seconds cannot be negative');
    if (int(a, 'maxSilenceSeconds') < 0) return err(400, 'max_silence_seconds cannot be negative');
    return inStasis((c) => recordOn(`channel:${c.id}`, () => s.model.target(c), a, s))(a, s);
  },
  // The names first, then the channel (any, in Stasis or not); functions as getChannelVar reads them.
  getChannelVars: (a, s) => {
    const names = (a.variables as string[] | undefined) ?? [];
    if (!names.length) return err(400, 'At least one variable name is required');
    const c = s.model.channels.get(a.channelId as string);
    if (!c) return err(404, 'Provided channel was not found');
    const out: Record<string, string> = {};
    for (const n of names) {
      const r = readVariable(s.model, c, n);
      if ('status' in r) return r;
      out[n] = r.value;
    }
    return { status: 200, body: { variables: out } };
  },
  // No body at all is 400; then the channel (404), Stasis (409), the variables object.
  setChannelVars: (a, s) => {
    if (!a.body) return err(400, "The 'variables' field is required");
    if (!s.model.channels.has(a.channelId as string)) return err(404, 'Provided channel was not found');
    return inStasis((c) => {
      const vars = bodyVariables(a);
      if ('status' in vars) return vars;
      // Each variable is a synchronous command of its own, sent when the one before has run.
      return controlSyncEach(s, c, vars, ([k, value]) => setVariable(c, k.trim(), value, s));
    })(a, s);
  },
  snoopChannel: (a, s) => snoop(a, s),
  snoopChannelWithId: (a, s) => snoop(a, s),
  rtpstatistics: withChannel((c, _a, s) => rtpStatistics(c, s)),
  // ast_ari_channels_external_media's checks in its order; transport udp and rtp encapsulation
  // when not given, a client connection unless told; the channel is made up and in Stasis at once.
  externalMedia: (a, s) => {
    const app = a.app as string | undefined;
    if (!app) return err(400, 'app cannot be empty');
    const transport = (a.given?.has('transport') && (a.transport as string)) || 'udp';
    const encapsulation = (a.given?.has('encapsulation') && (a.encapsulation as string)) || 'rtp';
    if (transport === 'websocket' && encapsulation !== 'none')
      return err(400, "encapsulation must be 'none' for websocket transport");
    if (encapsulation === 'rtp' && transport !== 'udp')
      return err(400, "transport must be 'udp' for rtp encapsulation");
    if (encapsulation === 'audiosocket' && transport !== 'tcp')
      return err(400, "transport must be 'tcp' for audiosocket encapsulation");
    const connection = (a.given?.has('connection_type') && (a.connection_type as string)) || 'client';
    if (transport !== 'websocket' && connection === 'server')
      return err(400, "'server' connection_type can only be used with the websocket transport");
    let host = a.external_host as string | undefined;
    if (!host) {
      if (connection === 'client')
        return err(400, 'external_host is required for all but websocket server connections');
      host = 'INCOMING';
    }
    // The simulator configures no websocket_client connection.
    if (transport === 'websocket' && connection === 'client')
      return err(400, 'external_host must be a valid websocket_client connection id.');
    if (transport !== 'websocket' && !/^(\[[^\]]+\]|[^:]+):\d+$/.test(host))
      return err(400, 'external_host must be <host>:<port> for all transports other than websocket');
    if (!a.format) return err(400, 'format cannot be empty');
    const dir = a.given?.has('direction') ? String(a.direction ?? '') : '';
    if (dir && !['both', 'in', 'out'].includes(dir)) return err(400, 'Invalid direction specified');
    const tech =
      encapsulation === 'rtp' && transport === 'udp'
        ? 'UnicastRTP'
        : encapsulation === 'audiosocket' && transport === 'tcp'
          ? 'AudioSocket'
          : encapsulation === 'none' && transport === 'websocket'
            ? 'WebSocket'
            : null;
    if (!tech) return err(501, 'The encapsulation and/or transport is not supported');
    if (tech === 'AudioSocket' && !a.data) return err(400, 'data can not be empty');
    const id = (a.channelId as string | undefined) ?? randomUUID();
    if (s.model.channels.has(id)) return err(409, 'Channel with given unique ID already exists');
    const c = s.model.create({ id, name: s.model.nextName(`${tech}/${host}`), state: 'Up' });
    c.owner = app;
    const body = s.model.json(c);
    s.model.enterStasis(c, app, ((a.data as string | undefined) ?? '').split(',').filter(Boolean));
    return { status: 200, body };
  },
  transfer_progress: inStasis((_c, a) => {
    const states = a.states as string | undefined;
    if (!states) return err(400, 'states must not be empty');
    return TRANSFER_STATES.test(states) ? noContent : err(400, 'Invalid states value');
  }),
};
