// Pure decisions about which way an ARI REST request travels.

/** True for Asterisk versions that accept RESTRequest frames on the events WebSocket. */
export function hasRestOverWebSocket(version: string): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  if (major >= 23) return true;
  const since: Record<number, number> = { 20: 13, 21: 8, 22: 3 };
  return since[major] !== undefined && minor >= since[major]!;
}
