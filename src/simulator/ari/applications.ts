// /applications: the Stasis apps, and their event filters.
import { applicationsOps } from './operations.ts';
import { type Args, bind, err, type Reply } from './spec.ts';
import type { AriState } from './state.ts';

const known = (s: AriState, name: unknown) => typeof name === 'string' && s.known(name);

/** An event source (`channel:`, `bridge:`, `endpoint:`, `deviceState:` + id) that exists now. */
function eventSourceExists(s: AriState, src: string): boolean {
  const [scheme, id = ''] = src.split(/:(.*)/s);
  if (scheme === 'channel') return s.model.channels.has(id);
  if (scheme === 'bridge') return s.model.bridges.has(id);
  if (scheme === 'endpoint')
    return (
      id.startsWith('PJSIP/') &&
      (s.model.endpoints.has(id.slice(6)) || s.model.pjsip.persistent.has(id.slice(6)))
    );
  if (scheme === 'deviceState') return true;
  return false;
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
  subscribe: (a, s) => {
    if (!known(s, a.applicationName)) return err(404, 'Application not found');
    const sources = (a.eventSource as string[] | undefined) ?? [];
    if (!sources.length) return err(400, 'Missing parameter eventSource');
    for (const src of sources) if (!eventSourceExists(s, src)) return err(422, 'Event source does not exist');
    const set = s.subscriptions.get(a.applicationName as string) ?? new Set<string>();
    for (const src of sources) set.add(src);
    s.subscriptions.set(a.applicationName as string, set);
    return { status: 200, body: s.applicationJson(a.applicationName as string) };
  },
  unsubscribe: (a, s) => {
    if (!known(s, a.applicationName)) return err(404, 'Application not found');
    const sources = (a.eventSource as string[] | undefined) ?? [];
    if (!sources.length) return err(400, 'Missing parameter eventSource');
    const set = s.subscriptions.get(a.applicationName as string) ?? new Set<string>();
    for (const src of sources) if (!eventSourceExists(s, src)) return err(422, 'Event source does not exist');
    for (const src of sources)
      if (!set.has(src)) return err(409, 'Application not subscribed to event source');
    for (const src of sources) set.delete(src);
    return { status: 200, body: s.applicationJson(a.applicationName as string) };
  },
  filter: (a, s) =>
    known(s, a.applicationName)
      ? setEventFilter(s, a.applicationName as string, a.body ?? {})
      : err(404, 'Application not found'),
});
