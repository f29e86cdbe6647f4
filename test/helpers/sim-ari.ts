// The simulator's own ARI tests' setup: a simulator on free ports (`startSim`), an app held on an
// events WebSocket (`holdApp`), raw REST requests (`ariRest`), and all of them together in `simAri`:
// the dialplan's app (`capconduit`) held, every event it is sent in order, and inbound calls placed
// into Stasis.
import WebSocket from 'ws';
import { type Simulator, type SimulatorOptions, startSimulator } from '../../src/simulator/index.ts';
import type { Cleanup } from './cleanup.ts';
import { waitFor } from './wait.ts';

export type AriEvent = {
  type: string;
  playback?: Record<string, unknown>;
  recording?: Record<string, unknown>;
} & Record<string, unknown>;

/** A simulator on free ports (with `o`), stopped by `cleanup`. */
export async function startSim(cleanup: Cleanup, o: SimulatorOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ ariPort: 0, amiPort: 0, ...o });
  cleanup.push(() => s.stop());
  return s;
}

/** An ARI events WebSocket holding `app`, open; terminated by `cleanup`. */
export async function holdApp(s: Simulator, app: string, cleanup: Cleanup): Promise<WebSocket> {
  const ws = new WebSocket(
    `${s.ariUrl.replace(/^http/, 'ws')}/ari/events?app=${app}&api_key=asterisk:asterisk`,
  );
  cleanup.push(() => ws.terminate());
  await new Promise((r) => ws.once('open', r));
  return ws;
}

/** ARI REST requests to the simulator: the status and the parsed body (null for a 204). */
export function ariRest(s: Simulator) {
  return async (method: string, path: string, body?: unknown) => {
    const r = await fetch(
      `${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`,
      {
        method,
        ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
      },
    );
    return { status: r.status, body: (r.status === 204 ? null : await r.json()) as Record<string, unknown> };
  };
}

/** Starts it (with simulator options `o`); everything it opens is handed to `cleanup`. */
export async function simAri(cleanup: Cleanup, o: SimulatorOptions = {}) {
  const s = await startSim(cleanup, o);
  const ws = await holdApp(s, 'capconduit', cleanup);
  const events: AriEvent[] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as AriEvent));
  const ari = ariRest(s);
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
