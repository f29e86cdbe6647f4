// The simulator against the recorded `connect` scenario of a real Asterisk 22.10.1, AMI side: a
// login, Ping, CoreStatus, CoreSettings, CoreShowChannels, Command (a known and an unknown CLI
// command), an unknown action, a bad login on a second connection, and raw protocol edge cases on a
// third (an action before login, `Events: off` at login, no ActionID, lower-case headers, ActionID
// before Action, a second login, Logoff). Every connection's frames are compared with the
// recording in order, field by field, normalised as test/helpers/scenario-replay.ts says; the
// security events each connection's actions cause reach the first one, in the recorded places.
// Values Asterisk's host decides are compared loosely: CoreSettings' version, limits and run user
// are the simulator's own, and `core show version` names another build. (The scenario's ARI steps,
// api-docs and /asterisk, are checked by the ARI tests.)
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/index.ts';
import { amiReader, type Frame, Ids, loadScenario } from '../helpers/scenario-replay.ts';
import { waitFor } from '../helpers/wait.ts';

const USER = 'lab';
const PASS = 'labpass';
const fixture = (name: string) => new URL(`../fixtures/asterisk-wire/${name}`, import.meta.url).pathname;

/** Fields whose values belong to the host Asterisk ran on, not to its behaviour. */
const HOST_FIELDS = new Set([
  'AsteriskVersion',
  'AMIversion',
  'SystemName',
  'CoreMaxFilehandles',
  'CoreRunUser',
  'CoreRunGroup',
  'CoreMaxLoadAvg',
  'CoreMaxCalls',
]);
const loose = (f: Frame): Frame =>
  f.map(([k, v]) => [
    k,
    HOST_FIELDS.has(k)
      ? '<host>'
      : k === 'Output' && /^Asterisk 22\.10\.1 built by /.test(v)
        ? '<version>'
        : v,
  ]);

describe('simulator conformance: the recorded connect scenario (AMI)', () => {
  it('answers every AMI frame of every connection as Asterisk did, security events included', async () => {
    const recs = loadScenario('connect').filter((r) => r.src.startsWith('ami.'));
    const sim = await startSimulator({
      ariPort: 0,
      amiPort: 0,
      user: USER,
      password: PASS,
      badLoginDelayMs: 50,
      endpoints: { client1: {}, carrier1: { result: 'unavailable' } },
      dialplanPath: fixture('lab-extensions.conf'),
    });
    const ids = new Ids();
    ids.amiUser = USER;
    const creds: Record<string, string> = {
      '<ami-user>': USER,
      '<ami-pass>': PASS,
      '<epoch-ms>': '1700000000000',
    };
    const conns = new Map<string, { sock: Socket; frames: Frame[]; banner: boolean; closed: boolean }>();
    const seen = new Map<string, number>();
    try {
      for (const r of recs) {
        const name = String(r.conn);
        if (r.src === 'ami.conn' && r.ev === 'open') {
          const sock = connect(sim.amiPort, '127.0.0.1');
          const c = { sock, frames: [] as Frame[], banner: false, closed: false };
          sock.on('data', (d: Buffer) => {
            if (d.toString().startsWith('Asterisk Call Manager/11.0.0\r\n')) c.banner = true;
          });
          amiReader(sock, (f) => c.frames.push(f));
          sock.on('close', () => {
            c.closed = true;
          });
          conns.set(name, c);
          await waitFor(() => c.banner);
        }
        const c = conns.get(name)!;
        if (r.src === 'ami.send') {
          const f = r.frame as Record<string, string>;
          c.sock.write(
            `${Object.entries(f)
              .map(([k, v]) => `${k}: ${ids.fill(v, creds)}\r\n`)
              .join('')}\r\n`,
          );
        }
        if (r.src === 'ami.recv' && r.kind !== 'banner') {
          const n = (seen.get(name) ?? 0) + 1;
          seen.set(name, n);
          await waitFor(() => c.frames.length >= n);
        }
        if (r.src === 'ami.conn' && r.ev === 'close' && r.by === 'server') await waitFor(() => c.closed);
      }
      for (const [name, c] of conns) {
        const real = recs
          .filter((r) => r.src === 'ami.recv' && r.conn === name && r.kind !== 'banner')
          .map((r) => loose(Object.entries(r.frame as Record<string, string>) as Frame));
        expect(
          c.frames.map((f) => loose(ids.frame(f))),
          name,
        ).toEqual(real);
      }
      expect([...conns.keys()]).toEqual(['main', 'badlogin', 'raw']);
    } finally {
      for (const c of conns.values()) c.sock.destroy();
      await sim.stop();
    }
  });
});
