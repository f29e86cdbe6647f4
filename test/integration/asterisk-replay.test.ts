// Our own ARI and AMI clients against the exact frames a real Asterisk 22.10.1 sent (recordings
// replayed by a loopback stand-in, test/helpers/wire-replay.ts): every recorded ARI answer is read
// as the value or the AriError (status, Asterisk's message) it stands for, every recorded event
// arrives parsed and in order, and every AMI action gets its recorded response (an Error as an
// AmiActionError) and the events that followed, OriginateResponse included.
import { describe, expect, it } from 'vitest';
import { type AmiEvent, AmiActionError, AmiClient } from '../../src/asterisk/ami.ts';
import { AriClient } from '../../src/asterisk/ari.ts';
import { AriError } from '../../src/asterisk/errors.ts';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { type Entry, loadRaw, startReplay } from '../helpers/wire-replay.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
const cleanup = cleanupEach();

async function replay(name: string) {
  const entries = loadRaw(name);
  const r = await startReplay(entries);
  cleanup.push(() => r.stop());
  const ari = new AriClient({
    url: r.ariUrl,
    user: 'lab',
    password: 'labpass',
    apps: ['capconduit'],
    log,
    transport: 'http',
  });
  const events: AnyAriEvent[] = [];
  ari.on('event', (e: AnyAriEvent) => events.push(e));
  cleanup.push(() => ari.stop());
  const up = new Promise((res) => ari.once('connected', res));
  ari.start();
  await up;
  const ami = new AmiClient({ host: '127.0.0.1', port: r.amiPort, user: 'lab', secret: 'labpass', log });
  const amiEvents: AmiEvent[] = [];
  ami.on('event', (e: AmiEvent) => amiEvents.push(e));
  cleanup.push(() => ami.stop());
  const amiUp = new Promise((res) => ami.once('connected', res));
  ami.start();
  await amiUp;
  return { entries, r, ari, events, ami, amiEvents };
}

/** Every recorded ARI request (authenticated, api-docs aside) through AriClient.request. */
async function checkAriAnswers(ari: AriClient, entries: Entry[]) {
  let n = 0;
  for (const e of entries) {
    if (e.src !== 'ari.http' || String(e.path).includes('/api-docs/') || e.auth === 'none') continue;
    if (e.status === 401) continue;
    const path = String(e.path).slice('/ari'.length);
    const status = Number(e.status);
    n++;
    if (status < 300) {
      const got = await ari.request<unknown>(String(e.method), path);
      expect(got ?? null, `${e.method} ${path}`).toEqual(e.resBody ?? null);
      continue;
    }
    const err = await ari.request(String(e.method), path).then(
      () => null,
      (x: unknown) => x,
    );
    expect(err, `${e.method} ${path}`).toBeInstanceOf(AriError);
    const body = e.resBody as { message?: string; error?: string };
    expect((err as AriError).status).toBe(status);
    expect((err as AriError).message).toContain(body.message ?? body.error);
  }
  return n;
}

/** Every recorded AMI action but login/logoff through AmiClient.action, against its recorded answer. */
async function checkAmiAnswers(ami: AmiClient, entries: Entry[]) {
  const main = entries.filter((e) => e.conn === 'main');
  let n = 0;
  for (const [i, e] of main.entries()) {
    if (e.src !== 'ami.send') continue;
    const { Action, ActionID, ...fields } = e.frame as Record<string, string>;
    if (/^(login|logoff)$/i.test(Action!)) continue;
    const recorded = main
      .slice(i + 1)
      .find(
        (x) =>
          x.src === 'ami.recv' &&
          (x.frame as Record<string, string>)?.ActionID === ActionID &&
          x.kind === 'response',
      )?.frame as Record<string, string>;
    n++;
    const got = await ami.action(Action!, fields).then(
      (x) => x.response,
      (x: unknown) => x,
    );
    if (recorded.Response === 'Error') {
      expect(got, `${Action} ${ActionID}`).toBeInstanceOf(AmiActionError);
      expect((got as AmiActionError).response.fields.message).toBe(recorded.Message);
    } else {
      expect((got as { fields: Record<string, string> }).fields).toMatchObject({
        response: recorded.Response,
        message: recorded.Message,
      });
    }
  }
  return n;
}

describe('our Asterisk clients against a real Asterisk 22.10.1 on the wire (replayed)', () => {
  it('an inbound call answered and bridged: events, REST answers, AMI Originate and OriginateResponse', async () => {
    const { entries, ari, events, ami, amiEvents } = await replay('inbound-answer-bridge');
    const recorded = entries.filter((e) => e.src === 'ari.ws').map((e) => e.data as AnyAriEvent);
    await waitFor(() => events.length >= recorded.length);
    expect(events).toEqual(recorded);
    expect(await checkAriAnswers(ari, entries)).toBeGreaterThan(10);
    expect(await checkAmiAnswers(ami, entries)).toBe(1);
    const resp = await waitFor(() => amiEvents.find((e) => e.event === 'OriginateResponse'));
    expect(resp.fields).toMatchObject({ response: 'Success', reason: '4', uniqueid: '1795350498.643' });
    // Every event Asterisk sent (from FullyBooted at login on) reached us, in order.
    const after = entries
      .filter((e) => e.conn === 'main' && e.src === 'ami.recv' && (e.frame as { Event?: string })?.Event)
      .map((e) => (e.frame as { Event: string }).Event);
    await waitFor(() => amiEvents.length >= after.length);
    expect(amiEvents.map((e) => e.event)).toEqual(after);
  });

  it('errors: every ARI status and message, every AMI error, as the clients report them', async () => {
    const { entries, ari, ami } = await replay('errors');
    expect(await checkAriAnswers(ari, entries)).toBeGreaterThan(40);
    expect(await checkAmiAnswers(ami, entries)).toBeGreaterThan(8);
  });
});
