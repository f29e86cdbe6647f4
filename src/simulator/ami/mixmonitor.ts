// app_mixmonitor's AMI actions: MixMonitor, StopMixMonitor and MixMonitorMute, as
// manager_mixmonitor, manager_stop_mixmonitor and manager_mute_mixmonitor check and answer them.
// Nothing is recorded: a monitor is its file's path, format and start time, and when it stops
// (StopMixMonitor or the channel's hangup) the file is stored with the elapsed length, where a
// stored recording of ARI would be (AmiHooks.storeFile).
import type { SimChannel } from '../model.ts';
import { error } from './auth.ts';
import type { Fields } from './protocol.ts';
import { type Action, type ActionContext, byName, type StoreFile } from './session.ts';

/** ast_config_AST_MONITOR_DIR: where a file name without a leading `/` is written. */
export const MONITOR_DIR = '/var/spool/asterisk/monitor';
/** ast_config_AST_RECORDING_DIR: ARI's stored recordings are the files under it. */
export const RECORDING_DIR = '/var/spool/asterisk/recording';

/** The stored recording a file is to ARI (its path under RECORDING_DIR, no extension), if any. */
export const storedName = (path: string): string | null => {
  if (!path.startsWith(`${RECORDING_DIR}/`)) return null;
  const rel = path.slice(RECORDING_DIR.length + 1);
  const dot = rel.lastIndexOf('.');
  return dot > rel.lastIndexOf('/') ? rel.slice(0, dot) : rel;
};

/** One running MixMonitor on a channel (the mixmonitor_ds datastore). */
interface Monitor {
  /** The datastore's id: its `%p`, which the `i(var)` option hands out as MixMonitorID. */
  id: string;
  files: Array<{ path: string; format: string }>;
  append: boolean;
  startedAt: number;
}

/** A channel's monitors, newest first (ast_channel_datastore_add inserts at the head). */
const monitors = new WeakMap<SimChannel, Monitor[]>();
let seq = 0;

/** ast_app_parse_options for the letters mixmonitor_opts knows: each letter, with its `(arg)`. */
function parseOptions(s: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < s.length; i++) {
    const letter = s[i]!;
    if (s[i + 1] === '(') {
      const end = s.indexOf(')', i + 2);
      const stop = end < 0 ? s.length : end;
      out.set(letter, s.slice(i + 2, stop));
      i = stop;
    } else out.set(letter, '');
  }
  return out;
}

/** filename_parse: absolute under the monitor directory unless it starts with `/`; .wav49 is .WAV. */
const filePath = (name: string) => {
  const p = name.startsWith('/') ? name : `${MONITOR_DIR}/${name}`;
  return p.endsWith('.wav49') ? `${p.slice(0, -6)}.WAV` : p;
};

/** The format mixmonitor_save_prep writes: the extension after the last `.` of the last part, else raw. */
const formatOf = (path: string) => {
  const dot = path.lastIndexOf('.');
  return dot > path.lastIndexOf('/') ? path.slice(dot + 1) : 'raw';
};

/** The monitor ends: its files are stored with the time it ran. */
function finish(store: StoreFile, m: Monitor): void {
  const s = Math.max(0, Date.now() - m.startedAt) / 1000;
  for (const f of m.files) store(f.path, f.format, s, m.append);
}

/** The channel hangs up: its monitors end with it, with no MixMonitorStop (only a stop sends one). */
export function channelGone(store: StoreFile, c: SimChannel): void {
  const list = monitors.get(c);
  if (!list) return;
  monitors.delete(c);
  for (const m of list) finish(store, m);
}

/**
 * MixMonitor (manager_mixmonitor, then mixmonitor_exec with `File,Options,Command`): the channel,
 * then a file from `File` or the `r()`/`t()` options (none: `Could not start monitoring channel`).
 * MIXMONITOR_FILENAME is set to the mixed file's path (empty with only r/t), the `i(var)` variable
 * to the monitor's id, then MixMonitorStart; the answer carries `MixMonitorID` when `i` was given.
 */
export const mixMonitor: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'No such channel');
  const opts = parseOptions(ctx.f.options ?? '');
  const file = ctx.f.file ?? '';
  const files = [file, opts.get('r'), opts.get('t')].filter((f): f is string => !!f).map(filePath);
  if (!file && !opts.has('r') && !opts.has('t')) return error(ctx, 'Could not start monitoring channel');
  const m: Monitor = {
    id: `0x7f4c${(0x3a001200 + ++seq * 0x1f0).toString(16)}`,
    files: files.map((path) => ({ path, format: formatOf(path) })),
    append: opts.has('a'),
    startedAt: Date.now(),
  };
  const uidVar = opts.get('i');
  reply(ctx, uidVar ? [['MixMonitorID', m.id]] : []);
  monitors.set(c, [m, ...(monitors.get(c) ?? [])]);
  const model = ctx.core.model;
  model.setVar(c, 'MIXMONITOR_FILENAME', file ? filePath(file) : '');
  if (uidVar) model.setVar(c, uidVar, m.id);
  ctx.channelEvent('MixMonitorStart', c);
};

/** Success with no Message, as app_mixmonitor writes its answers. */
const reply = (ctx: ActionContext, extra: Fields) => ctx.reply([['Response', 'Success'], ...extra]);

/**
 * StopMixMonitor (stop_mixmonitor_full): the monitor named by `MixMonitorID`, else the newest;
 * none is `Could not stop monitoring channel`. The file is complete at once; MixMonitorStop.
 */
export const stopMixMonitor: Action = (ctx) => {
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'No such channel');
  const list = monitors.get(c) ?? [];
  const id = ctx.f.mixmonitorid ?? '';
  const m = id ? list.find((x) => x.id === id) : list[0];
  if (!m) return error(ctx, 'Could not stop monitoring channel');
  monitors.set(
    c,
    list.filter((x) => x !== m),
  );
  finish(ctx.core.hooks.storeFile, m);
  reply(ctx, []);
  ctx.channelEvent('MixMonitorStop', c);
};

/**
 * MixMonitorMute (manager_mute_mixmonitor): Direction (read, write, both), Channel, State, then
 * the channel; every monitor of the channel, or the one `MixMonitorID` names (none such: `Cannot
 * set mute flag`). MixMonitorMute carries the direction as given and State 1 or 0. Muting has no
 * effect on the simulated file (there is no audio).
 */
export const mixMonitorMute: Action = (ctx) => {
  const direction = ctx.f.direction ?? '';
  if (!direction) return error(ctx, 'No direction specified. Must be read, write or both');
  if (!/^(read|write|both)$/i.test(direction))
    return error(ctx, 'Invalid direction specified. Must be read, write or both');
  const name = ctx.f.channel ?? '';
  if (!name) return error(ctx, 'No channel specified');
  const state = ctx.f.state ?? '';
  if (!state) return error(ctx, 'No state specified');
  const c = byName(ctx, name);
  if (!c) return error(ctx, 'No such channel');
  const id = ctx.f.mixmonitorid ?? '';
  if (id && !(monitors.get(c) ?? []).some((m) => m.id === id)) return error(ctx, 'Cannot set mute flag');
  reply(ctx, []);
  ctx.channelEvent('MixMonitorMute', c, [
    ['Direction', direction],
    ['State', /^(yes|true|y|t|1|on)$/i.test(state.trim()) ? 1 : 0],
  ]);
};
