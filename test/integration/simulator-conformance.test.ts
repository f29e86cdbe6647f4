// The simulator against what a real Asterisk 22.10.1 answered in the recorded `errors` scenario
// (test/fixtures/asterisk-wire/errors.jsonl, normalised: generated ids as <HEX8>, credentials as
// <ari-user>/<ari-pass>): the same ARI requests, in the same order on one HTTP connection (Asterisk
// keeps an error number per connection), must get the same statuses and error bodies, and the same
// AMI actions the same frames, field order included.
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';

type Entry = Record<string, unknown> & { src: string; step: string };
const fixture = (name: string) => new URL(`../fixtures/asterisk-wire/${name}`, import.meta.url);
const entries = readFileSync(fixture('errors.jsonl'), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Entry);
// Steps whose requests name nothing made earlier in the scenario (no channel or bridge id).
const ARI_STEPS = /^(02|03|04|08|09|10|11):/;
const AMI_STEPS = /^(21|22|23|24|25|26):/;
const USER = 'lab';
const PASS = 'labpass';
const fill = (s: string) => s.replaceAll('<HEX8>', '00000000');

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({
    ariPort: 0,
    amiPort: 0,
    user: USER,
    password: PASS,
    channelVars: [],
    endpoints: { client1: {}, carrier1: { result: 'unavailable' } },
    dialplanPath: new URL(fixture('lab-extensions.conf')).pathname,
    badLoginDelayMs: 50,
  });
});
afterAll(() => sim?.stop());

describe('simulator conformance: the recorded errors scenario', () => {
  it('answers the recorded ARI requests with the recorded statuses and error bodies', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ask = (e: Entry) =>
      new Promise<{ status: number; body: unknown }>((resolve, reject) => {
        const q = new URLSearchParams(
          Object.entries(e.query as Record<string, string>).map(([k, v]) => [
            k,
            v.replace('<ari-user>', USER).replace('<ari-pass>', PASS),
          ]) as Array<[string, string]>,
        ).toString();
        const auth =
          e.auth === 'basic' ? `${USER}:${PASS}` : e.auth === 'basic:wrong' ? `${USER}:nope` : null;
        const req = request(
          `${sim.ariUrl}${e.path}${q ? `?${q}` : ''}`,
          {
            method: String(e.method),
            agent,
            headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
          },
          (res) => {
            let text = '';
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    let n = 0;
    for (const e of entries) {
      if (e.src !== 'ari.http' || !ARI_STEPS.test(e.step)) continue;
      const got = await ask(e);
      n++;
      expect(got.status, `${e.step} ${e.method} ${e.path}`).toBe(e.status);
      if (Number(e.status) >= 400) expect(got.body, `${e.step} ${e.method} ${e.path}`).toEqual(e.resBody);
    }
    agent.destroy();
    expect(n).toBe(23);
  });

  it('answers the recorded AMI actions with the recorded frames', async () => {
    const sock = connect(sim.amiPort, '127.0.0.1');
    const frames: Array<Array<[string, string]>> = [];
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString();
      for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
        const lines = buf.slice(0, i).split('\r\n');
        buf = buf.slice(i + 4);
        // The greeting line comes first, alone, without a blank line after it.
        if (lines[0]?.startsWith('Asterisk Call Manager/')) lines.shift();
        frames.push(lines.map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
      }
    });
    const send = (f: Record<string, string>) =>
      sock.write(
        `${Object.entries(f)
          .map(([k, v]) => `${k}: ${fill(v)}\r\n`)
          .join('')}\r\n`,
      );
    const next = async (pred: (f: Array<[string, string]>) => boolean) => {
      for (;;) {
        const i = frames.findIndex(pred);
        if (i >= 0) return frames.splice(i, 1)[0]!;
        await new Promise((r) => sock.once('data', r));
      }
    };
    const has = (k: string, v: string) => (f: Array<[string, string]>) =>
      f.some(([a, b]) => a === k && b === v);
    // OriginateResponse is a `call` event: a session logged in with `Events: off` would not get it.
    send({ Action: 'Login', ActionID: 'login-0', Username: USER, Secret: PASS, Events: 'call' });
    await next(has('ActionID', 'login-0'));
    let n = 0;
    for (const e of entries) {
      if (!AMI_STEPS.test(e.step) || e.conn !== 'main') continue;
      const frame = e.frame as Record<string, string>;
      if (e.src === 'ami.send') send(frame);
      if (e.src !== 'ami.recv') continue;
      const want = Object.entries(frame);
      const got = await next(frame.Event ? has('Event', frame.Event) : has('ActionID', frame.ActionID!));
      n++;
      expect(
        got.map(([k, v]) => [k, v.replace(/-[0-9a-f]{8}(;\d)?$/, '-<HEX8>$1')]),
        e.step,
      ).toEqual(want);
    }
    sock.destroy();
    expect(n).toBe(9);
  });
});
