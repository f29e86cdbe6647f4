// The smaller ARI resources: endpoints, sounds, playbacks, recordings, device states, mailboxes.
import { escapes } from './channel-media.ts';
import { noContent } from './guards.ts';
import { recordingFile } from './media.ts';
import { SOUNDS } from './sounds.ts';
import {
  deviceStatesOps,
  endpointsOps,
  mailboxesOps,
  playbacksOps,
  recordingsOps,
  soundsOps,
} from './operations.ts';
import type { PlaybackOp } from './playback.ts';
import type { RecordingOp } from './recording.ts';
import { type Args, bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

/** Every PJSIP endpoint ARI knows, by name. */
const known = (s: AriState) =>
  [...new Set([...s.model.endpoints.keys(), ...s.model.pjsip.persistent])].sort();

/** A sound as resource_sounds.c builds it: `text` only when it has one, its language/format pairs. */
function soundJson(id: string, lang?: string, format?: string) {
  const x = SOUNDS[id];
  if (!x || (lang && !x.languages.includes(lang))) return null;
  const formats = x.languages
    .filter((l) => !lang || l === lang)
    .flatMap((language) => x.formats.map((f) => ({ language, format: f })))
    .filter((p) => !format || p.format === format);
  if (!formats.length) return null;
  return { id, ...(x.text ? { text: x.text } : {}), formats };
}

/** DeviceStateChanged to the apps subscribed to the device (or to every device). */
function deviceStateChanged(s: AriState, name: string, state: string): void {
  for (const app of s.deviceStateSubscribers(name))
    s.model.event(app, 'DeviceStateChanged', { device_state: { name, state } });
}

/** What ast_devstate_val knows (case-insensitive), UNKNOWN aside. */
const DEVICE_STATES = new Set([
  'NOT_INUSE',
  'INUSE',
  'BUSY',
  'INVALID',
  'UNAVAILABLE',
  'RINGING',
  'RINGINUSE',
  'ONHOLD',
]);

/** A live recording's operation (control_recording): 404 for none, then its state's answer. */
const live =
  (op: RecordingOp): Handler<AriState> =>
  (a, s) => {
    const r = s.media.recordings.live.get(a.recordingName as string);
    return r ? s.media.recordings.operate(r, op) : err(404, 'Recording not found');
  };

/**
 * ast_msg_send / ast_refer_send: a destination is required (400 `To must be specified`) and goes
 * to the message technology its scheme names; only res_pjsip's (`pjsip:`) exists here, any other
 * is 404 `Endpoint not found`. Sending is asynchronous: 202. Body variables must be strings.
 */
const deliver = (to: string | undefined, a: Args): Reply => {
  const vars = a.body?.variables;
  if (vars && typeof vars === 'object' && Object.values(vars).some((v) => typeof v !== 'string'))
    return err(400, "Only string values in the 'variables' object allowed");
  if (!to) return err(400, 'To must be specified');
  return /^pjsip:/i.test(to) ? { status: 202 } : err(404, 'Endpoint not found');
};

export const resourceRoutes = [
  ...bind<AriState, typeof endpointsOps>(endpointsOps, {
    list: async (_a, s) => ({
      status: 200,
      body: (await Promise.all(known(s).map((r) => s.endpointJson('PJSIP', r)))).filter(Boolean),
    }),
    listByTech: async (a, s) => {
      if (String(a.tech).toUpperCase() !== 'PJSIP') return err(404, 'No Endpoints found - invalid tech');
      const list = await Promise.all(known(s).map((r) => s.endpointJson('PJSIP', r)));
      return { status: 200, body: list.filter(Boolean) };
    },
    get: async (a, s) => {
      const e = await s.endpointJson(a.tech as string, a.resource as string);
      return e ? { status: 200, body: e } : err(404, 'Endpoint not found');
    },
    sendMessage: (a) => deliver(a.to as string | undefined, a),
    sendMessageToEndpoint: async (a, s) =>
      (await s.endpointJson(a.tech as string, a.resource as string))
        ? deliver(`${String(a.tech).toLowerCase()}:${a.resource}`, a)
        : err(404, 'Endpoint not found'),
    refer: (a) => deliver(a.to as string | undefined, a),
    referToEndpoint: async (a, s) =>
      (await s.endpointJson(a.tech as string, a.resource as string))
        ? deliver(`${String(a.tech).toLowerCase()}:${a.resource}`, a)
        : err(404, 'Endpoint not found'),
  }),
  ...bind<AriState, typeof soundsOps>(soundsOps, {
    // Each sound with the language/format pairs that pass the filters; none at all is 404.
    list: (a) => {
      const body = Object.keys(SOUNDS)
        .map((id) => soundJson(id, a.lang as string | undefined, a.format as string | undefined))
        .filter(Boolean);
      return body.length ? { status: 200, body } : err(404, 'No sounds found that matched the query');
    },
    get: (a) => {
      const x = soundJson(a.soundId as string);
      return x ? { status: 200, body: x } : err(404, 'Sound not found');
    },
  }),
  ...bind<AriState, typeof playbacksOps>(playbacksOps, {
    get: (a, s) => {
      const p = s.media.playbacks.byId.get(a.playbackId as string);
      return p ? { status: 200, body: s.media.playbacks.json(p) } : err(404, 'Playback not found');
    },
    stop: (a, s) => {
      const p = s.media.playbacks.byId.get(a.playbackId as string);
      return p ? s.media.playbacks.operate(p, 'stop') : err(404, 'Playback not found');
    },
    // The operation is checked before the playback is looked up, as resource_playbacks.c does.
    control: (a, s) => {
      const op = a.operation as string | undefined;
      if (!op) return err(400, 'Missing operation');
      if (!['restart', 'pause', 'unpause', 'reverse', 'forward'].includes(op))
        return err(400, `Invalid operation ${op}`);
      const p = s.media.playbacks.byId.get(a.playbackId as string);
      return p ? s.media.playbacks.operate(p, op as PlaybackOp) : err(404, 'Playback not found');
    },
  }),
  ...bind<AriState, typeof recordingsOps>(recordingsOps, {
    listStored: (_a, s) => ({
      status: 200,
      body: [...s.media.stored.values()].map((r) => ({ name: r.name, format: r.format })),
    }),
    getStored: (a, s) => {
      const r = s.media.stored.get(a.recordingName as string);
      return r ? { status: 200, body: { name: r.name, format: r.format } } : err(404, 'Recording not found');
    },
    deleteStored: (a, s) =>
      s.media.stored.delete(a.recordingName as string) ? noContent : err(404, 'Recording not found'),
    getStoredFile: (a, s) => {
      // Nothing is recorded: a file of silence as long as the recording is made up (media.ts).
      const r = s.media.stored.get(a.recordingName as string);
      if (!r) return err(404, 'Recording not found');
      const bytes = recordingFile(r.format, r.durationS);
      return bytes
        ? { status: 200, file: { contentType: `audio/${r.format}`, bytes } }
        : err(403, 'Recording could not be opened');
    },
    copyStored: (a, s) => {
      const r = s.media.stored.get(a.recordingName as string);
      if (!r) return err(404, 'Recording not found');
      const dest = a.destinationRecordingName as string | undefined;
      if (dest && s.media.stored.has(dest))
        return err(409, 'A recording with the same name already exists on the system');
      if (!dest) return err(400, 'Invalid destination recording name');
      // A destination outside the recordings directory is refused when it is looked up (EACCES).
      if (escapes(dest)) return err(403, 'Destination file path is forbidden');
      s.media.stored.set(dest, { ...r, name: dest });
      return { status: 200, body: { name: dest, format: r.format } };
    },
    getLive: (a, s) => {
      const r = s.media.recordings.live.get(a.recordingName as string);
      return r ? { status: 200, body: s.media.recordings.json(r) } : err(404, 'Recording not found');
    },
    cancel: live('cancel'),
    stop: live('stop'),
    pause: live('pause'),
    unpause: live('unpause'),
    mute: live('mute'),
    unmute: live('unmute'),
  }),
  ...bind<AriState, typeof deviceStatesOps>(deviceStatesOps, {
    list: (_a, s) => ({
      status: 200,
      body: [...s.deviceStates].map(([name, state]) => ({ name: `Stasis:${name}`, state })),
    }),
    get: (a, s) => {
      const name = String(a.deviceName);
      const st = /^stasis:/i.test(name) ? s.deviceStates.get(name.slice(7)) : undefined;
      return { status: 200, body: { name, state: st ?? 'UNKNOWN' } };
    },
    // stasis_app_device_state_update: a Stasis: device only (409), with a name (404) and a state
    // ast_devstate_val knows (500 Unknown device); subscribed apps hear DeviceStateChanged.
    update: (a, s) => {
      const name = String(a.deviceName);
      if (!/^stasis:/i.test(name)) return err(409, 'Uncontrolled device specified');
      const id = name.slice(7);
      if (!id) return err(404, 'Device name is missing');
      const state = String(a.deviceState ?? '').toUpperCase();
      if (!DEVICE_STATES.has(state)) return err(500, 'Unknown device');
      s.deviceStates.set(id, state);
      deviceStateChanged(s, `Stasis:${id}`, state);
      return noContent;
    },
    // A device never set is not in the cache: 204 and no event. A deleted one reads UNKNOWN.
    delete: (a, s) => {
      const name = String(a.deviceName);
      if (!/^stasis:/i.test(name)) return err(409, 'Uncontrolled device specified');
      const id = name.slice(7);
      if (!id) return err(404, 'Device name is missing');
      if (s.deviceStates.delete(id)) deviceStateChanged(s, `Stasis:${id}`, 'UNKNOWN');
      return noContent;
    },
  }),
  ...bind<AriState, typeof mailboxesOps>(mailboxesOps, {
    list: (_a, s) => ({ status: 200, body: [...s.mailboxes].map(([name, m]) => ({ name, ...m })) }),
    get: (a, s) => {
      const m = s.mailboxes.get(a.mailboxName as string);
      // Asterisk's message, typo and all.
      return m ? { status: 200, body: { name: a.mailboxName, ...m } } : err(404, 'Mailbox is does not exist');
    },
    // No count given is 0 (atoi of nothing): Asterisk refuses nothing here.
    update: (a, s) => {
      s.mailboxes.set(a.mailboxName as string, {
        old_messages: a.given?.has('oldMessages') ? Number(a.oldMessages) : 0,
        new_messages: a.given?.has('newMessages') ? Number(a.newMessages) : 0,
      });
      return noContent;
    },
    delete: (a, s) =>
      s.mailboxes.delete(a.mailboxName as string) ? noContent : err(404, 'Mailbox does not exist'),
  }),
];
