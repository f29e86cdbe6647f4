// A raw manager session on the simulator for its AMI tests: every frame in order as a record of
// its fields, and actions sent with an ActionID whose response is awaited; `simAmi` and `simAriAmi`
// start the simulator (and simAri's app) with a session logged in.
import { connect } from 'node:net';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import type { Cleanup } from './cleanup.ts';
import { amiReader } from './scenario-replay.ts';
import { simAri, startSim } from './sim-ari.ts';
import { waitFor } from './wait.ts';

export type AmiFrame = Record<string, string>;

/** Logs in (with the `Events` given); everything it opens is handed to `cleanup`. */
export async function amiSession(port: number, cleanup: Cleanup, events = 'on') {
  const frames: AmiFrame[] = [];
  /** The same frames with their fields in the order sent (for checks of Asterisk's key order). */
  const ordered: Array<Array<[string, string]>> = [];
  const sock = connect(port, '127.0.0.1');
  cleanup.push(() => sock.destroy());
  amiReader(sock, (f) => {
    frames.push(Object.fromEntries(f));
    ordered.push(f);
  });
  let seq = 0;
  const write = (fields: AmiFrame) =>
    sock.write(
      `${Object.entries(fields)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join('')}\r\n`,
    );
  /** Sends an action and resolves with its response frame. */
  const action = async (name: string, fields: AmiFrame = {}): Promise<AmiFrame> => {
    const id = `t-${++seq}`;
    write({ Action: name, ActionID: id, ...fields });
    await waitFor(() => frames.some((f) => f.ActionID === id && f.Response));
    return frames.find((f) => f.ActionID === id && f.Response)!;
  };
  /**
   * Sends an action answered with an event list and resolves with every frame carrying its
   * ActionID (the response, the items, the Complete event), fields in the order sent.
   */
  const list = async (name: string, fields: AmiFrame = {}): Promise<Array<Array<[string, string]>>> => {
    const id = `t-${++seq}`;
    write({ Action: name, ActionID: id, ...fields });
    const mine = () => ordered.filter((f) => f.some(([k, v]) => k === 'ActionID' && v === id));
    await waitFor(() =>
      mine().some((f) =>
        f.some(([k, v]) => (k === 'EventList' && v === 'Complete') || (k === 'Response' && v === 'Error')),
      ),
    );
    return mine();
  };
  const login = await action('Login', { Username: 'asterisk', Secret: 'asterisk', Events: events });
  if (login.Response !== 'Success') throw new Error(`AMI login refused: ${login.Message}`);
  /** The events of one channel (by Uniqueid), of the kinds given, in order. */
  const of = (uniqueid: string, ...kinds: string[]) =>
    frames.filter((f) => f.Uniqueid === uniqueid && (!kinds.length || kinds.includes(f.Event ?? '')));
  return { frames, ordered, action, list, of, write };
}

export type AmiSession = Awaited<ReturnType<typeof amiSession>>;

/** A simulator (with `o`) and a manager session logged in to it with all events. */
export async function simAmi(cleanup: Cleanup, o: SimulatorOptions = {}) {
  const s = await startSim(cleanup, o);
  return { s, ami: await amiSession(s.amiPort, cleanup) };
}

/** `simAri`'s simulator and app, and a manager session logged in to it with all events. */
export async function simAriAmi(cleanup: Cleanup, o: SimulatorOptions = {}) {
  const sim = await simAri(cleanup, o);
  return { ...sim, ami: await amiSession(sim.s.amiPort, cleanup) };
}
