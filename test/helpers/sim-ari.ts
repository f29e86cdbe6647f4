// A simulator with the dialplan's app (`capconduit`) held on an ARI WebSocket, every event it is
// sent in order, an ARI caller, and inbound calls placed into Stasis: the setup of the simulator's
// own ARI tests.
import WebSocket from 'ws';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { waitFor } from './wait.ts';

export type AriEvent = {
  type: string;
  playback?: Record<string, unknown>;
  recording?: Record<string, unknown>;
} & Record<string, unknown>;

/** Starts it; everything it opens is handed to `cleanup` (run in reverse after each test). */
export async function simAri(cleanup: Array<() => Promise<unknown> | unknown>) {
  const s: Simulator = await startSimulator({ ariPort: 0, amiPort: 0 });
  cleanup.push(() => s.stop());
  const ws = new WebSocket(
    `${s.ariUrl.replace(/^http/, 'ws')}/ari/events?app=capconduit&api_key=asterisk:asterisk`,
  );
  cleanup.push(() => ws.terminate());
  await new Promise((r) => ws.once('open', r));
  const events: AriEvent[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as AriEvent));
  const ari = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(
      `${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`,
      {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      },
    );
    return { status: r.status, body: (r.status === 204 ? null : await r.json()) as Record<string, unknown> };
  };
  /** An inbound call in Stasis (state Ring), answered unless told otherwise. */
  const call = async (answer = true) => {
    const id = s.placeInboundCall({ did: '14155550100', callerNumber: '12125550100' });
    await waitFor(() =>
      events.some((e) => e.type === 'StasisStart' && (e.channel as { id: string }).id === id),
    );
    if (answer && (await ari('POST', `channels/${id}/answer`)).status !== 204)
      throw new Error(`answer ${id} refused`);
    return id;
  };
  /** A playback's or recording's events, as `type:media_uri` or `type:state`. */
  const media = (id: string) =>
    events
      .filter((e) => (e.playback?.id ?? e.recording?.name) === id)
      .map((e) => `${e.type}:${String(e.playback?.media_uri ?? e.recording?.state)}`);
  return { s, ari, call, events, media };
}
