// /asterisk: system information, ping, global variables, modules, log channels, and dynamic
// (sorcery) configuration of res_pjsip's objects, read from and written to the realtime tables.
import { asteriskTime } from '../model.ts';
import { noContent } from './guards.ts';
import { asteriskOps } from './operations.ts';
import { type SorceryType, TRANSPORTS } from '../pjsip/directory.ts';
import { OBJECT_FIELDS, renderFields, type Row } from '../pjsip/sorcery.ts';
import { type Args, bind, err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

const started = new Date();

/** The object types of res_pjsip's sorcery instance (the only configClass the simulator has). */
const PJSIP_TYPES = new Set([
  'endpoint',
  'aor',
  'auth',
  'identify',
  'transport',
  'contact',
  'domain_alias',
  'global',
  'system',
]);

/**
 * The sorcery lookup the three dynamic configuration operations start with: the class (404
 * `configClass`), the object type (404 `objectType`), then the object (null when absent).
 */
async function sorcery(
  a: Args,
  s: AriState,
): Promise<Reply | { type: SorceryType | 'transport'; row: Row | null }> {
  if (a.configClass !== 'res_pjsip') return err(404, `configClass '${a.configClass}' not found`);
  const type = a.objectType as string;
  if (!PJSIP_TYPES.has(type)) return err(404, `objectType '${type}' not found`);
  // Transports come from pjsip.conf (read-only); contacts and the rest are not modelled: none is found.
  if (type === 'transport') {
    const t = TRANSPORTS[a.id as string];
    return { type: 'transport', row: t ? { ...t, id: a.id as string } : null };
  }
  if (!(type in OBJECT_FIELDS)) return { type: 'endpoint', row: null };
  return {
    type: type as SorceryType,
    row: await s.model.pjsip.sorceryObject(type as SorceryType, a.id as string),
  };
}

/** The object as ConfigTuples, every field its type registers, in sorcery's order and print form. */
function tuples(type: keyof typeof OBJECT_FIELDS, row: Row) {
  const out: Array<{ attribute: string; value: string }> = [];
  for (const f of OBJECT_FIELDS[type]) {
    const [pair] = renderFields([f], row);
    if (pair) out.push({ attribute: f[0], value: pair[1] });
  }
  return out;
}

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

/** Which modules of the catalogue each needs loaded (a module others need cannot be unloaded). */
const NEEDS: Record<string, string[]> = {
  'res_ari.so': ['res_http_websocket.so'],
  'res_stasis_playback.so': ['res_stasis.so', 'res_stasis_recording.so'],
  'res_stasis_recording.so': ['res_stasis.so'],
  'res_stasis_snoop.so': ['res_stasis.so', 'res_stasis_recording.so'],
  'res_stasis_answer.so': ['res_stasis.so'],
  'app_stasis.so': ['res_stasis.so'],
  'chan_pjsip.so': ['res_pjsip.so'],
  'res_pjsip.so': ['res_config_pgsql.so'],
};

/** The modules running: the catalogue less those unloaded over ARI since start. */
const running = (s: AriState) => MODULES.filter(([n]) => !s.unloadedModules.has(n));

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
    s.model.setGlobal(v, (a.value as string | undefined) ?? '');
    return noContent;
  },
  listModules: (_a, s) => ({ status: 200, body: running(s).map(([n, d]) => moduleJson(n, d)) }),
  getModule: (a, s) => {
    const m = running(s).find(([n]) => n === a.moduleName);
    return m
      ? { status: 200, body: moduleJson(m[0], m[1]) }
      : err(404, 'Module could not be found in running modules');
  },
  // A module of the catalogue that was unloaded loads again; any other name is declined, as the
  // loader declines a module it has no file for.
  loadModule: (a, s) => {
    const name = a.moduleName as string;
    if (running(s).some(([n]) => n === name)) return err(409, 'Module is already loaded');
    if (!MODULES.some(([n]) => n === name)) return err(409, 'Module load declined');
    s.unloadedModules.delete(name);
    return noContent;
  },
  // ast_unload_resource, soft: refused while another running module depends on it.
  unloadModule: (a, s) => {
    const name = a.moduleName as string;
    if (!running(s).some(([n]) => n === name)) return err(404, 'Module not found in running modules');
    if (running(s).some(([n]) => NEEDS[n]?.includes(name))) return err(409, 'Module could not be unloaded');
    s.unloadedModules.add(name);
    return noContent;
  },
  reloadModule: (a, s) =>
    running(s).some(([n]) => n === a.moduleName)
      ? noContent
      : err(404, 'Module not found in running modules'),
  listLogChannels: (_a, s) => ({
    status: 200,
    body: [...s.logChannels].map(([channel, configuration]) => ({
      channel,
      type: 'File',
      status: 'Enabled',
      configuration,
    })),
  }),
  // ast_logger_create_channel: levels are required (400), an existing channel is 409.
  addLog: (a, s) => {
    const name = a.logChannelName as string;
    if (!a.configuration) return err(400, 'Configuration levels are required');
    if (s.logChannels.has(name)) return err(409, 'Log channel already exists');
    s.logChannels.set(name, a.configuration as string);
    return noContent;
  },
  deleteLog: (a, s) =>
    s.logChannels.delete(a.logChannelName as string) ? noContent : err(404, 'Log channel does not exist'),
  rotateLog: (a, s) =>
    s.logChannels.has(a.logChannelName as string) ? noContent : err(404, 'Log channel does not exist'),
  getObject: async (a, s) => {
    const found = await sorcery(a, s);
    if ('status' in found) return found;
    return found.row
      ? { status: 200, body: tuples(found.type, found.row) }
      : err(404, `Object with id '${a.id}' not found`);
  },
  // ast_ari_asterisk_update_object: an object that does not exist is created; fields are
  // `{attribute, value}` pairs, each an option the object type registers.
  updateObject: async (a, s) => {
    const found = await sorcery(a, s);
    if ('status' in found) return found;
    const given = (a.body?.fields ?? undefined) as unknown;
    if (!given && found.row) return err(400, `Fields must be provided to update object '${a.id}'`);
    const fields: Record<string, string> = {};
    const known = new Set(OBJECT_FIELDS[found.type].map(([n]) => n));
    for (const f of Array.isArray(given) ? given : []) {
      const { attribute, value } = (f ?? {}) as { attribute?: unknown; value?: unknown };
      if (typeof attribute !== 'string' || !known.has(attribute))
        return err(
          400,
          `${found.row ? 'Update' : 'Creation'} of object '${a.id}' failed field value validation`,
        );
      fields[attribute] = String(value ?? '');
    }
    const ok =
      found.type !== 'transport' &&
      (await s.model.pjsip.storeSorceryObject(found.type, a.id as string, fields, !found.row));
    if (!ok)
      return err(403, `Cannot ${found.row ? 'update' : 'create'} sorcery objects of type '${found.type}'`);
    const row =
      found.type === 'transport' ? null : await s.model.pjsip.sorceryObject(found.type, a.id as string);
    return { status: 200, body: tuples(found.type, row ?? { ...found.row, ...fields }) };
  },
  deleteObject: async (a, s) => {
    const found = await sorcery(a, s);
    if ('status' in found) return found;
    if (!found.row) return err(404, `Object with id '${a.id}' not found`);
    return found.type !== 'transport' && (await s.model.pjsip.deleteSorceryObject(found.type, a.id as string))
      ? noContent
      : err(403, `Could not delete object with id '${a.id}'`);
  },
});
