// The smaller ARI resources: endpoints, sounds, playbacks, recordings, device states, mailboxes.
import { noContent } from './guards.ts';
import { recordingFile, SOUNDS } from './media.ts';
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
import { bind, err, type Handler, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

/**
 * ARI's endpoint: res_pjsip's persistent endpoint, which exists for a configured endpoint and for
 * every realtime one loaded since start (listed, offline, even after its row is deleted, until a
 * restart); ARI itself never reads the realtime tables. Online while reachable.
 */
async function endpointJson(s: AriState, tech: string, resource: string) {
  if (tech.toUpperCase() !== 'PJSIP') return null;
  const dir = s.model.pjsip;
  if (!s.model.endpoints.has(resource) && !dir.persistent.has(resource)) return null;
  const o = await dir.objects(resource);
  const channel_ids = [...s.model.channels.values()].filter((c) => c.endpoint === resource).map((c) => c.id);
  const state = dir.reachable(resource, o) ? 'online' : 'offline';
  return { technology: 'PJSIP', resource, state, channel_ids };
}

/** Every PJSIP endpoint ARI knows, by name. */
const known = (s: AriState) =>
  [...new Set([...s.model.endpoints.keys(), ...s.model.pjsip.persistent])].sort();

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

const sendMessage = (to: string | undefined, from: string | undefined): Reply =>
  !to || !from ? err(400, 'Invalid parameters for sending a message') : { status: 202 };

export const resourceRoutes = [
  ...bind<AriState, typeof endpointsOps>(endpointsOps, {
    list: async (_a, s) => ({
      status: 200,
      body: (await Promise.all(known(s).map((r) => endpointJson(s, 'PJSIP', r)))).filter(Boolean),
    }),
    listByTech: async (a, s) => {
      if (String(a.tech).toUpperCase() !== 'PJSIP') return err(404, 'No Endpoints found - invalid tech');
      const list = await Promise.all(known(s).map((r) => endpointJson(s, 'PJSIP', r)));
      return { status: 200, body: list.filter(Boolean) };
    },
    get: async (a, s) => {
      const e = await endpointJson(s, a.tech as string, a.resource as string);
      return e ? { status: 200, body: e } : err(404, 'Endpoint not found');
    },
    sendMessage: (a) => sendMessage(a.to as string | undefined, a.from as string | undefined),
    sendMessageToEndpoint: async (a, s) =>
      (await endpointJson(s, a.tech as string, a.resource as string))
        ? sendMessage(`${a.tech}/${a.resource}`, a.from as string | undefined)
        : err(404, 'Endpoint not found'),
    refer: (a) =>
      a.to && a.from && a.refer_to ? { status: 202 } : err(400, 'Invalid parameters for referring.'),
    referToEndpoint: async (a, s) =>
      (await endpointJson(s, a.tech as string, a.resource as string))
        ? a.from && a.refer_to
          ? { status: 202 }
          : err(400, 'Invalid parameters for referring.')
        : err(404, 'Endpoint not found'),
  }),
  ...bind<AriState, typeof soundsOps>(soundsOps, {
    list: () => ({
      status: 200,
      body: Object.entries(SOUNDS).map(([id, x]) => ({
        id,
        text: x.text,
        formats: [{ language: 'en', format: 'gsm' }],
      })),
    }),
    get: (a) => {
      const x = SOUNDS[a.soundId as string];
      return x
        ? { status: 200, body: { id: a.soundId, text: x.text, formats: [{ language: 'en', format: 'gsm' }] } }
        : err(404, 'Sound not found');
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
      if (!dest) return err(400, 'Invalid destination recording name');
      if (s.media.stored.has(dest))
        return err(409, 'A recording with the same name already exists on the system');
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
      const st = s.deviceStates.get(String(a.deviceName).replace(/^Stasis:/, ''));
      return { status: 200, body: { name: a.deviceName, state: st ?? 'UNKNOWN' } };
    },
    update: (a, s) => {
      const name = String(a.deviceName);
      if (!name.startsWith('Stasis:')) return err(409, 'Uncontrolled device specified');
      const state = a.deviceState as string | undefined;
      if (!state || !DEVICE_STATES.has(state)) return err(400, 'Invalid device state specified');
      s.deviceStates.set(name.slice(7), state);
      s.model.emit('ari-broadcast', 'DeviceStateChanged', { device_state: { name, state } });
      return noContent;
    },
    delete: (a, s) => {
      const name = String(a.deviceName);
      if (!name.startsWith('Stasis:')) return err(409, 'Uncontrolled device specified');
      return s.deviceStates.delete(name.slice(7)) ? noContent : err(404, 'Device name is missing');
    },
  }),
  ...bind<AriState, typeof mailboxesOps>(mailboxesOps, {
    list: (_a, s) => ({ status: 200, body: [...s.mailboxes].map(([name, m]) => ({ name, ...m })) }),
    get: (a, s) => {
      const m = s.mailboxes.get(a.mailboxName as string);
      return m ? { status: 200, body: { name: a.mailboxName, ...m } } : err(404, 'Mailbox not found');
    },
    update: (a, s) => {
      if (a.oldMessages === undefined || a.newMessages === undefined)
        return err(400, 'Invalid mailbox parameters');
      s.mailboxes.set(a.mailboxName as string, {
        old_messages: Number(a.oldMessages),
        new_messages: Number(a.newMessages),
      });
      return noContent;
    },
    delete: (a, s) =>
      s.mailboxes.delete(a.mailboxName as string) ? noContent : err(404, 'Mailbox not found'),
  }),
];
