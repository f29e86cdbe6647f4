// /asterisk: system information, ping, global variables, modules, log channels, and dynamic
// (sorcery) configuration, which the simulator does not keep: every class is unknown to it.
import { asteriskTime } from '../model.ts';
import { noContent } from './guards.ts';
import { asteriskOps } from './operations.ts';
import { bind, err } from './spec.ts';
import type { AriState } from './state.ts';

const started = new Date();

/** The modules the simulator stands in for, as `module show` would list them. */
const MODULES: Array<[name: string, description: string]> = [
  ['res_ari.so', 'Asterisk RESTful Interface'],
  ['res_stasis.so', 'Stasis application support'],
  ['res_stasis_playback.so', 'Stasis application playback support'],
  ['res_stasis_recording.so', 'Stasis application recording support'],
  ['res_stasis_snoop.so', 'Stasis application snoop support'],
  ['res_stasis_answer.so', 'Stasis application answer support'],
  ['res_http_websocket.so', 'HTTP WebSocket Support'],
  ['chan_pjsip.so', 'PJSIP Channel Driver'],
  ['res_pjsip.so', 'Basic SIP resource'],
  ['res_config_pgsql.so', 'PostgreSQL RealTime Configuration Driver'],
  ['app_stasis.so', 'Stasis dialplan application'],
  ['app_dial.so', 'Dialing Application'],
  ['core_local.so', 'Local Proxy Channel Driver'],
];

const logChannels = new Map<string, string>([
  ['console', 'notice,warning,error'],
  ['messages', 'notice,warning,error'],
]);

const moduleJson = (name: string, description: string) => ({
  name,
  description,
  use_count: 0,
  status: 'Running',
  support_level: 'core',
});

export const asteriskRoutes = bind<AriState, typeof asteriskOps>(asteriskOps, {
  getInfo: (a, s) => {
    const all = {
      build: { os: 'Linux', kernel: '', machine: process.arch, options: '', date: '', user: '' },
      system: { version: '22.10.1', entity_id: s.model.asteriskId },
      config: { name: '', default_language: 'en', setid: { user: '', group: '' } },
      status: { startup_time: asteriskTime(started), last_reload_time: asteriskTime(started) },
    };
    const only = (a.only as string[] | undefined) ?? [];
    const body = only.length
      ? Object.fromEntries(Object.entries(all).filter(([k]) => only.includes(k)))
      : all;
    return { status: 200, body };
  },
  ping: (_a, s) => ({
    status: 200,
    body: { ping: 'pong', timestamp: asteriskTime(new Date()), asterisk_id: s.model.asteriskId },
  }),
  getGlobalVar: (a, s) => {
    const v = a.variable as string | undefined;
    if (!v) return err(400, 'Variable name is required');
    return { status: 200, body: { value: s.model.globals.get(v) ?? '' } };
  },
  setGlobalVar: (a, s) => {
    const v = a.variable as string | undefined;
    if (!v) return err(400, 'Variable name is required');
    s.model.globals.set(v, (a.value as string | undefined) ?? '');
    return noContent;
  },
  listModules: () => ({ status: 200, body: MODULES.map(([n, d]) => moduleJson(n, d)) }),
  getModule: (a) => {
    const m = MODULES.find(([n]) => n === a.moduleName);
    return m
      ? { status: 200, body: moduleJson(m[0], m[1]) }
      : err(404, 'Module could not be found in running modules');
  },
  loadModule: (a) =>
    MODULES.some(([n]) => n === a.moduleName)
      ? err(409, 'Module is already loaded')
      : err(409, 'Module could not be loaded'),
  unloadModule: (a) =>
    MODULES.some(([n]) => n === a.moduleName)
      ? err(409, 'Module could not be unloaded')
      : err(404, 'Module not found in running modules'),
  reloadModule: (a) =>
    MODULES.some(([n]) => n === a.moduleName) ? noContent : err(404, 'Module not found in running modules'),
  listLogChannels: () => ({
    status: 200,
    body: [...logChannels].map(([channel, configuration]) => ({
      channel,
      type: 'File',
      status: 'Enabled',
      configuration,
    })),
  }),
  addLog: (a) => {
    const name = a.logChannelName as string;
    if (!a.configuration) return err(400, 'Bad request body');
    if (logChannels.has(name)) return err(409, 'Log channel could not be created');
    logChannels.set(name, a.configuration as string);
    return noContent;
  },
  deleteLog: (a) =>
    logChannels.delete(a.logChannelName as string) ? noContent : err(404, 'Log channel does not exist'),
  rotateLog: (a) =>
    logChannels.has(a.logChannelName as string) ? noContent : err(404, 'Log channel does not exist'),
  getObject: (a) => err(404, `Unable to retrieve object '${a.id}'`),
  updateObject: () => err(404, 'Unable to retrieve configuration class'),
  deleteObject: (a) => err(404, `Unable to retrieve object '${a.id}'`),
});
