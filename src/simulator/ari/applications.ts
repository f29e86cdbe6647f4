// /applications: the Stasis apps, and their event filters.
import { applicationsOps } from './operations.ts';
import { type Args, bind, err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

const known = (s: AriState, name: unknown) => typeof name === 'string' && s.known(name);

const SCHEMES = ['channel:', 'bridge:', 'endpoint:', 'deviceState:'];

/**
 * Whether an event source's object exists now (the event source's `find`): a channel, a bridge,
 * an endpoint (`tech/resource`, or a technology alone), any device name. An empty id (`channel:`)
 * stands for every object of the kind and is not looked up.
 */
function eventSourceExists(s: AriState, src: string): boolean {
  const i = src.indexOf(':');
  const scheme = src.slice(0, i);
  const id = src.slice(i + 1);
  if (!id || scheme === 'deviceState') return true;
  if (scheme === 'channel') return s.model.channels.has(id);
  if (scheme === 'bridge') return s.model.bridges.has(id);
  const [tech = '', resource] = id.split(/\/(.*)/s);
  if (tech.toUpperCase() !== 'PJSIP') return false;
  return resource === undefined || s.model.endpoints.has(resource) || s.model.pjsip.persistent.has(resource);
}

/**
 * stasis_app_subscribe / stasis_app_unsubscribe: each source in turn (those before a failure stay
 * done), an unknown scheme 400, a missing object 422 (`Event source does not exist`), unsubscribing
 * from what the app is not subscribed to 422 (`Event source was not subscribed to`).
 */
function subscriptions(s: AriState, a: Args, subscribe: boolean): Reply {
  const app = a.applicationName as string;
  const sources = (a.eventSource as string[] | undefined) ?? [];
  if (!sources.length) return err(400, 'Missing parameter eventSource');
  if (!known(s, app)) return err(404, 'Application not found');
  const set = s.subscriptions.get(app) ?? new Set<string>();
  for (const src of sources) {
    if (!SCHEMES.some((x) => src.startsWith(x))) return err(400, 'Invalid event source URI scheme');
    if (subscribe) {
      if (!eventSourceExists(s, src)) return err(422, 'Event source does not exist');
      set.add(src);
      s.subscriptions.set(app, set);
    } else {
      const id = src.slice(src.indexOf(':') + 1);
      const implicit =
        src.startsWith('channel:') &&
        [...s.model.channels.values()].some((c) => c.id === id && (c.app === app || c.owner === app));
      if (!set.delete(src) && !implicit) return err(422, 'Event source was not subscribed to');
    }
  }
  return { status: 200, body: s.applicationJson(app) };
}

/**
 * The documented rules: an empty body empties both lists; a list given is set (an empty array
 * empties it); a list not given is left as it was. Each entry is an object with a string `type`.
 */
function setEventFilter(s: AriState, app: string, body: Record<string, unknown>): Reply {
  const parse = (v: unknown): Set<string> | null | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return null;
    const out = new Set<string>();
    for (const e of v) {
      const t = (e as { type?: unknown } | null)?.type;
      if (typeof t !== 'string' || !t) return null;
      out.add(t);
    }
    return out;
  };
  const allowed = parse(body.allowed);
  const disallowed = parse(body.disallowed);
  if (allowed === null || disallowed === null) return err(400, 'Invalid format definition');
  const cur = s.filters.get(app) ?? { allowed: new Set<string>(), disallowed: new Set<string>() };
  const empty = allowed === undefined && disallowed === undefined;
  s.filters.set(app, {
    allowed: empty ? new Set() : (allowed ?? cur.allowed),
    disallowed: empty ? new Set() : (disallowed ?? cur.disallowed),
  });
  return { status: 200, body: s.applicationJson(app) };
}

export const applicationRoutes = bind<AriState, typeof applicationsOps>(applicationsOps, {
  list: (_a, s) => ({
    status: 200,
    body: [...new Set([...s.apps.keys(), ...s.inactive])].map((name) => s.applicationJson(name)),
  }),
  get: (a: Args, s) =>
    known(s, a.applicationName)
      ? { status: 200, body: s.applicationJson(a.applicationName as string) }
      : err(404, 'Application not found'),
  subscribe: (a, s) => subscriptions(s, a, true),
  unsubscribe: (a, s) => subscriptions(s, a, false),
  filter: (a, s) =>
    known(s, a.applicationName)
      ? setEventFilter(s, a.applicationName as string, a.body ?? {})
      : err(404, 'Application not found'),
});
