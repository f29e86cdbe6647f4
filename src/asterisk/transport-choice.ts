// Pure decisions about which way an ARI REST request travels.

/**
 * True for Asterisk versions that accept RESTRequest frames on the events WebSocket: first released
 * in 20.14.0, 21.9.0 and 22.4.0.
 */
export function hasRestOverWebSocket(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 23) return true;
  const since: Record<number, number> = { 20: 14, 21: 9, 22: 4 };
  return since[major] !== undefined && minor >= since[major]!;
}

/**
 * Requests whose answer has a size that does not grow with the number of calls on the node: one
 * channel, one bridge, one playback, or an action on one of them. Only those may travel over the
 * events WebSocket. Asterisk 22 builds every outgoing WebSocket frame on the writing thread's stack
 * (alloca of the whole frame): an answer larger than that stack (about 500 KB) kills Asterisk, and
 * `GET /channels` is about 450 bytes a channel, so listing ~1,100 channels that way crashed it.
 * Everything else (lists of channels, bridges, endpoints, recordings, sounds; applications, whose
 * answer carries every channel id subscribed; endpoints, which carry their channel ids) goes over
 * HTTP, where Asterisk builds the answer on the heap.
 */
const BOUNDED = [
  /^\/channels\/[^/]+(\/[^/]+)?$/, // a channel, or an action on one (create, dial, variable...)
  /^\/bridges\/[^/]+(\/[^/]+)?$/, // a bridge (its member list is the call's legs), or an action
  /^\/playbacks\/[^/]+(\/[^/]+)?$/,
  /^\/events\/(claim|user\/[^/]+)$/,
  /^\/asterisk\/info$/,
];

/** True when the request may travel over the events WebSocket (see BOUNDED); false: HTTP. */
export function mayTravelOverWebSocket(method: string, path: string): boolean {
  // Creating a channel or a bridge answers with that one object.
  if (method !== 'GET' && (path === '/channels' || path === '/bridges')) return true;
  return BOUNDED.some((re) => re.test(path));
}
