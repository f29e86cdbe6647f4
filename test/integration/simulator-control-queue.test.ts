// A Stasis channel's commands run one after another on its control queue, as res/stasis/control.c
// runs them: continue, hold, DTMF and the rest wait behind a playback (answer and the HTTP answer
// with it); a continue drops what was queued behind it; DTMF sent to one half of a Local pair
// reaches the other as ChannelDtmfReceived; a recording ends on a terminateOn digit from the far
// end and starts after its beep.
import { afterEach, describe, expect, it } from 'vitest';
import { type AriEvent, simAri } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

let cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const setup = () => simAri(cleanup);
const about = (id: string) => (e: AriEvent) => (e.channel as { id?: string } | undefined)?.id === id;

describe('simulator control queue: commands wait behind what plays', () => {
  it('a continue during a playback takes effect when it ends, and drops what was queued behind it', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/play/p1?media=sound:hello-world`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('POST', `channels/${ch}/hold`)).status).toBe(204);
    expect((await ari('POST', `channels/${ch}/continue`)).status).toBe(204);
    expect((await ari('POST', `channels/${ch}/play/p2?media=sound:beep`)).body.state).toBe('queued');
    // Still in Stasis while it plays: nothing of the hold or the continue yet.
    expect(events.some((e) => e.type === 'StasisEnd' || e.type === 'ChannelHold')).toBe(false);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    const at = (t: string) => events.findIndex((e) => e.type === t);
    expect(at('ChannelHold')).toBeGreaterThan(at('PlaybackFinished'));
    expect(at('StasisEnd')).toBeGreaterThan(at('ChannelHold'));
    // The playback queued behind the continue never ran and is gone.
    expect(events.filter((e) => e.playback?.id === 'p2')).toEqual([]);
    expect((await ari('GET', 'playbacks/p2')).status).toBe(404);
  });

  it('an answer during a playback is answered once the playback has ended', async () => {
    const { ari, call, events } = await setup();
    const ch = await call(false); // incoming, Ring: it may play before the answer
    const t0 = Date.now();
    await ari('POST', `channels/${ch}/play/p1?media=sound:beep`);
    expect((await ari('POST', `channels/${ch}/answer`)).status).toBe(204);
    // The HTTP answer waited out the 250 ms beep.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await waitFor(() => events.some((e) => e.type === 'ChannelStateChange' && about(ch)(e)));
    const at = (t: string) => events.findIndex((e) => e.type === t && about(ch)(e));
    const finished = events.findIndex((e) => e.type === 'PlaybackFinished');
    expect(finished).toBeGreaterThanOrEqual(0);
    expect(at('ChannelStateChange')).toBeGreaterThan(finished);
  });

  it('DTMF sent to one half of a Local pair reaches the other in order, holding the queue while it is sent', async () => {
    const { ari, events } = await setup();
    const made = await ari('POST', 'channels/create?endpoint=Local/14155550100@from-carrier&app=capconduit');
    const one = made.body.id as string;
    await waitFor(() => events.some((e) => e.type === 'StasisStart' && about(one)(e)));
    expect((await ari('POST', `channels/${one}/dial`)).status).toBe(204);
    const two = (
      await waitFor(() =>
        events.find(
          (e) => e.type === 'StasisStart' && /;2$/.test(String((e.channel as { name: string }).name)),
        ),
      )
    ).channel as { id: string };
    expect((await ari('POST', `channels/${two.id}/answer`)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelStateChange' && about(one)(e)));
    expect((await ari('POST', `channels/${one}/dtmf?dtmf=12%23&duration=50&between=50`)).status).toBe(204);
    // Queued behind the digits: played only once they are sent.
    expect((await ari('POST', `channels/${one}/play/after?media=sound:beep`)).body.state).toBe('queued');
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    const digits = events.filter((e) => e.type === 'ChannelDtmfReceived');
    // ast_senddigit holds a digit at least AST_DEFAULT_EMULATE_DTMF_DURATION (100 ms): 50 is 100.
    expect(digits.map((e) => [e.digit, e.duration_ms, (e.channel as { id: string }).id])).toEqual([
      ['1', 100, two.id],
      ['2', 100, two.id],
      ['#', 100, two.id],
    ]);
    expect(Object.keys(digits[0]!)).toEqual([
      'type',
      'timestamp',
      'digit',
      'duration_ms',
      'channel',
      'asterisk_id',
      'application',
    ]);
    expect(events.findIndex((e) => e.type === 'PlaybackStarted')).toBeGreaterThan(events.indexOf(digits[2]!));
  });
});

describe('simulator recording options', () => {
  it('terminateOn: the far end pressing that digit ends the recording, another does not', async () => {
    const { ari, call, events, s, media } = await setup();
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/record?name=t1&format=wav&terminateOn=%23`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    s.pressDigits(ch, '1#');
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    const seen = events
      .filter((e) => e.type === 'ChannelDtmfReceived' || e.recording)
      .map((e) => `${e.type}:${String(e.digit ?? e.recording?.state)}`);
    expect(seen).toEqual([
      'RecordingStarted:recording',
      'ChannelDtmfReceived:1',
      'ChannelDtmfReceived:#',
      'RecordingFinished:done',
    ]);
    expect((await ari('GET', 'recordings/stored/t1')).status).toBe(200);
    // `any`: the first digit ends it.
    expect((await ari('POST', `channels/${ch}/record?name=t2&format=wav&terminateOn=any`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted' && e.recording?.name === 't2'));
    s.pressDigits(ch, '7');
    await waitFor(() => media('t2').includes('RecordingFinished:done'));
  });

  it('beep: RecordingStarted comes first, and the recorded length starts after the beep', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/record?name=b1&format=wav&beep=true&maxDurationSeconds=1`);
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    const started = Date.now();
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    // A 250 ms beep, then one second recorded.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1200);
    expect(events.find((e) => e.type === 'RecordingFinished')!.recording!.duration).toBe(1);
  });
});
