// The simulator against the recorded call-flow scenarios of a real Asterisk 22.10.1
// (test/fixtures/asterisk-wire/*.jsonl): each scenario's client side is replayed against the
// simulator (test/helpers/scenario-replay.ts says how, and how ids and timestamps are normalised),
// then every frame is compared with the recording: ARI answers (status and body) in request order,
// ARI events and AMI frames in order per channel (Asterisk's order between two channels varies
// from run to run), every field name, its place, its type and its normalised value. Ids must
// correlate: a Linkedid, a bridge's channel list or a peer is compared as the placeholder of the
// channel it names.
//
// The comparison is strict about order at every level: fields of an AMI frame, keys of a JSON
// object, items of a list.
//
// Every event is compared, the dialplan trace (Newexten, VarSet; ChannelDialplan, ChannelVarset)
// and the caller-id and connected-line updates included. The errors scenario runs its requests on
// one kept-alive HTTP connection, as recorded (an allocation failure's errno stays on it); the
// host's own values in Asterisk's info (kernel, build date, user) are compared by shape.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { freshDatabase } from '../helpers/env.ts';
import {
  amiSubject,
  type Frame,
  loadScenario,
  type Rec,
  replay,
  threads,
  wsSubject,
} from '../helpers/scenario-replay.ts';

const SKIP_WS = new Set<string>();
const SKIP_AMI = new Set<string>();
const USER = 'lab';
const PASS = 'labpass';
const fixture = (name: string) => new URL(`../fixtures/asterisk-wire/${name}`, import.meta.url).pathname;

async function lab(databaseUrl?: string): Promise<Simulator> {
  return startSimulator({
    ariPort: 0,
    amiPort: 0,
    user: USER,
    password: PASS,
    channelVars: [],
    endpoints: { client1: {}, carrier1: { result: 'unavailable' } },
    dialplanPath: fixture('lab-extensions.conf'),
    ...(databaseUrl ? { databaseUrl } : {}),
  });
}

/** A JSON value with every object as its list of entries, so that comparing it compares key order. */
const ordered = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(ordered)
    : v && typeof v === 'object'
      ? Object.entries(v).map(([k, x]) => [k, ordered(x)])
      : v;

/** A value with every string and number replaced by its type. */
const shape = (v: unknown): unknown =>
  Array.isArray(v)
    ? v.map(shape)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]))
      : typeof v;

async function check(name: string, databaseUrl?: string) {
  const recs = loadScenario(name);
  const sim = await lab(databaseUrl);
  try {
    const { got, ids } = await replay(recs, {
      ariUrl: sim.ariUrl,
      amiPort: sim.amiPort,
      user: USER,
      password: PASS,
      app: 'capconduit',
      skipWs: SKIP_WS,
      skipAmi: SKIP_AMI,
      ...(databaseUrl ? { databaseUrl } : {}),
    });
    // ARI answers, one by one. Asterisk's info names the host it was built and runs on (kernel,
    // machine, build date, user): only its shape is compared.
    for (const h of got.http) {
      const what = `${h.rec.step} ${h.rec.method} ${h.rec.path}`;
      expect(h.status, what).toBe(h.rec.status);
      const host = String(h.rec.path).endsWith('/asterisk/info') ? shape : (v: unknown) => v;
      expect(ordered(host(ids.value(h.body))), what).toEqual(ordered(host(h.rec.resBody ?? null)));
    }
    // ARI events, per channel (or bridge).
    const realWs = recs.filter((r) => r.src === 'ari.ws' && !SKIP_WS.has(String(r.type))).map((r) => r.data);
    const gotWs = got.ws.filter((e) => !SKIP_WS.has(String(e.type))).map((e) => ids.value(e));
    expect(ordered(threads(gotWs as Array<Record<string, unknown>>, wsSubject))).toEqual(
      ordered(threads(realWs as Array<Record<string, unknown>>, wsSubject)),
    );
    // AMI responses, lists and events, per channel (responses per ActionID), fields in order.
    const event = (f: Frame) => f.find(([k]) => k === 'Event')?.[1] ?? '';
    const realAmi = recs
      .filter((r: Rec) => r.src === 'ami.recv' && r.conn === 'main' && r.kind !== 'banner')
      .map((r) => Object.entries(r.frame as Record<string, string>) as Frame)
      .filter((f) => !SKIP_AMI.has(event(f)));
    const gotAmi = got.ami.filter((f) => !SKIP_AMI.has(event(f))).map((f) => ids.frame(f));
    expect(threads(gotAmi, amiSubject)).toEqual(threads(realAmi, amiSubject));
  } finally {
    await sim.stop();
  }
}

describe('simulator conformance: the recorded call flows, frame by frame', () => {
  it('inbound call answered, a Local leg created, bridged, dialled and answered, both hung up', () =>
    check('inbound-answer-bridge'));
  it('the leg far end hangs up busy', () => check('outbound-busy'));
  it('the leg unanswered until the dial timeout', () => check('outbound-noanswer'));
  it('originates into Stasis and into the dialplan, with chosen ids and a duplicate', () =>
    check('originate-into-stasis'));
  it('answers errors: ARI 400/401/404/405/409/422/500 and AMI errors, around calls', () => check('errors'));
});

describe('simulator conformance: PJSIP realtime rows seen through AMI and ARI', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await freshDatabase();
    const postgres = (await import('postgres')).default;
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    const { readFileSync } = await import('node:fs');
    await sql.unsafe(readFileSync(fixture('lab-realtime.sql'), 'utf8'));
    await sql.end();
  });
  afterAll(() => db?.drop());
  it('rows inserted, shown, updated, deleted: every detail event and the persistent ARI endpoint', () =>
    check('pjsip-realtime', db.url));
});
