// A Stasis channel's commands run one after another on its control queue, as res/stasis/control.c
// runs them: continue, hold, DTMF and the rest wait behind a playback (answer, variable sets and
// bridge adds and removals with their HTTP answers); what is queued behind a continue still runs
// before StasisEnd; a recording refuses a bridge add at once; DTMF sent to one half of a Local pair
// reaches the other as ChannelDtmfReceived; a recording ends on a terminateOn digit from the far
// end and starts after its beep.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { type AriEvent, simAri } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const setup = () => simAri(cleanup);

/** Sends requests pipelined on one connection (read by the server in that order); their statuses. */
function pipelined(base: string, requests: string[]): Promise<number[]> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), hostname, () =>
      sock.write(requests.map((r) => `${r} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`).join('')),
    );
    let text = '';
    sock.on('data', (d) => {
      text += String(d);
      const got = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
      if (got.length === requests.length) {
        sock.destroy();
        resolve(got);
      }
    });
    sock.on('error', reject);
  });
}
const about = (id: string) => (e: AriEvent) => (e.channel as { id?: string } | undefined)?.id === id;

describe('simulator control queue: commands wait behind what plays', () => {
  it('a continue during a playback takes effect when it ends, after what was queued behind it', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/play/p1?media=sound:hello-world`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('POST', `channels/${ch}/play/p0?media=sound:beep`)).body.state).toBe('queued');
    expect((await ari('POST', `channels/${ch}/continue`)).status).toBe(204);
    expect((await ari('POST', `channels/${ch}/play/p2?media=sound:beep`)).body.state).toBe('queued');
    // Still in Stasis while it plays: nothing of the continue yet.
    expect(events.some((e) => e.type === 'StasisEnd')).toBe(false);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    const at = (t: string, id?: string) =>
      events.findIndex((e) => e.type === t && (id === undefined || e.playback?.id === id));
    expect(at('PlaybackStarted', 'p0')).toBeGreaterThan(at('PlaybackFinished', 'p1'));
    // control_dispatch_all runs what was queued behind the continue in the same pass: the
    // playback plays out, and only then does the Stasis loop end.
    expect(at('PlaybackStarted', 'p2')).toBeGreaterThan(at('PlaybackFinished', 'p0'));
    expect(at('StasisEnd')).toBeGreaterThan(at('PlaybackFinished', 'p2'));
  });

  it('hold and unhold indicate to the far end and publish nothing (ChannelHold is a far end holding)', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/hold`)).status).toBe(204);
    expect((await ari('DELETE', `channels/${ch}/hold`)).status).toBe(204);
    // Something after them on the same queue, to know they have run.
    await ari('POST', `channels/${ch}/play/p1?media=sound:beep`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));
    expect(events.filter((e) => e.type === 'ChannelHold' || e.type === 'ChannelUnhold')).toEqual([]);
  });

  it('what waits behind a playback when the channel hangs up still starts, on the hung-up channel', async () => {
    const { ari, call, events, s } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/p1?media=sound:demo-congrats`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('POST', `channels/${ch}/play/p2?media=sound:beep,sound:beep`)).body.state).toBe(
      'queued',
    );
    expect((await ari('POST', `channels/${ch}/record?name=late1&format=wav`)).body.state).toBe('queued');
    expect((await ari('POST', `channels/${ch}/record?name=late2&format=wav&beep=true`)).status).toBe(201);
    expect((await ari('POST', `channels/${ch}/dtmf?dtmf=123`)).status).toBe(204);
    expect((await ari('DELETE', `channels/${ch}`)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    const seq = events
      .filter((e) => e.playback || e.recording || e.type === 'StasisEnd')
      .map((e) =>
        [
          e.type,
          e.playback?.id ?? e.recording?.name ?? '',
          e.playback?.state ?? e.recording?.state ?? '',
          e.recording?.duration ?? '',
        ].join(':'),
      );
    // control_dispatch_all starts each in turn: play_on_channel publishes its start and its stream
    // fails at once (the hangup stops it at its first media); record_file's channel is still Up,
    // so it starts, and __ast_play_and_record reads nothing (an empty file, 0 s) or, with a beep,
    // gives up before opening the file (no duration, nothing stored).
    expect(seq).toEqual([
      'PlaybackStarted:p1:playing:',
      'PlaybackFinished:p1:failed:',
      'PlaybackStarted:p2:playing:',
      'PlaybackFinished:p2:failed:',
      'RecordingStarted:late1:recording:',
      'RecordingFinished:late1:done:0',
      'RecordingStarted:late2:recording:',
      'RecordingFinished:late2:done:',
      'StasisEnd:::',
    ]);
    const stored = await fetch(`${s.ariUrl}/ari/recordings/stored?api_key=asterisk:asterisk`);
    expect(((await stored.json()) as Array<{ name: string }>).map((r) => r.name)).toEqual(['late1']);
  });

  it('once a continue has run, the channel takes no more commands while what was queued behind it drains', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    const other = await call();
    const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    await ari('POST', `channels/${ch}/play/p1?media=sound:beep`);
    expect((await ari('POST', `channels/${ch}/continue`)).status).toBe(204);
    // Behind the continue: a tone, which plays until stopped, holds the drain open.
    expect((await ari('POST', `channels/${ch}/play/p2?media=tone:ring`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted' && e.playback?.id === 'p2'));
    // control->is_done: stasis_app_send_command(_async) refuse, and each resource answers with
    // what it makes of that (resource_channels.c, resource_bridges.c).
    const asked = Promise.all([
      ari('POST', `channels/${ch}/variable?variable=LATE&value=1`),
      ari('POST', `channels/${ch}/variables`, { variables: { A: '1' } }),
      ari('POST', `channels/${ch}/answer`),
      ari('POST', `channels/${ch}/play/p3?media=sound:beep`),
      ari('POST', `channels/${ch}/record?name=never&format=wav`),
      ari('POST', `channels/${ch}/hold`),
      ari('POST', `channels/${ch}/continue`),
      ari('POST', `bridges/${bridge}/addChannel?channel=${ch}`),
    ]);
    const [setVar, setVars, answer, play, record, hold, again, add] = await asked;
    expect(setVar).toEqual({ status: 400, body: { message: 'Failed to execute function' } });
    expect(setVars).toEqual({ status: 400, body: { message: 'Failed to execute function' } });
    expect(answer).toEqual({ status: 500, body: { message: 'Failed to answer channel' } });
    expect(play.status).toBe(201);
    expect(play.body.state).toBe('queued');
    expect(record.status).toBe(201);
    expect([hold.status, again.status, add.status]).toEqual([204, 204, 204]);
    // None of them runs: the playback and recording are gone at once.
    expect((await ari('GET', 'playbacks/p3')).status).toBe(404);
    expect((await ari('GET', 'recordings/live/never')).status).toBe(404);
    expect((await ari('DELETE', 'playbacks/p2')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    // A later command on another channel, to be sure nothing more was on its way.
    await ari('POST', `channels/${other}/play/p4?media=sound:beep`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'p4'));
    expect(
      events.filter((e) => e.type === 'ChannelVarset' && ['LATE', 'A'].includes(String(e.variable))),
    ).toEqual([]);
    expect(events.some((e) => e.playback?.id === 'p3' || e.recording?.name === 'never')).toBe(false);
    expect(events.some((e) => e.type === 'ChannelEnteredBridge')).toBe(false);
  });

  it('a variable set during a playback waits for it, HTTP answer included, and is reported in order', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/p1?media=sound:beep`);
    let answered = false;
    const set = ari('POST', `channels/${ch}/variable?variable=FOO&value=bar`).then((r) => {
      answered = true;
      return r;
    });
    // The playback has not finished: the request is still waiting for its turn.
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect(answered).toBe(false);
    expect((await set).status).toBe(204);
    // The events come over the WebSocket, which may trail the HTTP answer.
    await waitFor(() => events.some((e) => e.type === 'ChannelVarset' && e.variable === 'FOO'));
    const varset = events.findIndex((e) => e.type === 'ChannelVarset' && e.variable === 'FOO');
    const finished = events.findIndex((e) => e.type === 'PlaybackFinished');
    expect(finished).toBeGreaterThanOrEqual(0);
    expect(varset).toBeGreaterThan(finished);
    // setChannelVars: each variable its own command, in order, after the next playback.
    await ari('POST', `channels/${ch}/play/p2?media=sound:beep`);
    const bulk = await ari('POST', `channels/${ch}/variables`, { variables: { A: '1', B: '2' } });
    expect(bulk.status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelVarset' && e.variable === 'B'));
    const after = events.findIndex((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'p2');
    const names = events
      .slice(after)
      .filter((e) => e.type === 'ChannelVarset')
      .map((e) => e.variable);
    expect(names).toEqual(['A', 'B']);
  });

  it('a variable set waiting behind a playback still runs when the channel hangs up: after the failure, before StasisEnd', async () => {
    const { ari, call, events, s } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/p1?media=sound:demo-congrats`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('POST', `channels/${ch}/play/p2?media=sound:beep`)).body.state).toBe('queued');
    // Pipelined on one connection: the set is read (and queued) before the hangup is.
    const statuses = await pipelined(s.ariUrl, [
      `POST /ari/channels/${ch}/variable?variable=LATE&value=1&api_key=asterisk:asterisk`,
      `DELETE /ari/channels/${ch}?api_key=asterisk:asterisk`,
    ]);
    expect(statuses).toEqual([204, 204]);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    const seq = events
      .filter((e) => ['PlaybackFinished', 'ChannelVarset', 'StasisEnd'].includes(e.type))
      .filter((e) => e.type !== 'ChannelVarset' || e.variable === 'LATE')
      .map((e) => `${e.type}:${String(e.playback?.state ?? '')}`);
    // p2, queued before the set, starts and fails on the hung-up channel before the set runs.
    expect(seq).toEqual([
      'PlaybackFinished:failed',
      'PlaybackFinished:failed',
      'ChannelVarset:',
      'StasisEnd:',
    ]);
  });

  it('a bridge add waits behind a playback; a channel recording is refused with 409 at once', async () => {
    const { ari, call, events } = await setup();
    const a = await call();
    const b = await call();
    const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    await ari('POST', `channels/${a}/play/p1?media=sound:beep`);
    const add = await ari('POST', `bridges/${bridge}/addChannel?channel=${a}`);
    expect(add.status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelEnteredBridge' && about(a)(e)));
    const entered = events.findIndex((e) => e.type === 'ChannelEnteredBridge' && about(a)(e));
    const finished = events.findIndex((e) => e.type === 'PlaybackFinished');
    expect(finished).toBeGreaterThanOrEqual(0);
    expect(entered).toBeGreaterThan(finished);
    // res_stasis_recording's add rule: refused as queued, not after the recording.
    expect((await ari('POST', `channels/${b}/record?name=r1&format=wav`)).status).toBe(201);
    const refused = await ari('POST', `bridges/${bridge}/addChannel?channel=${b}`);
    expect(refused).toEqual({ status: 409, body: { message: `Channel ${b} currently recording` } });
    await ari('POST', 'recordings/live/r1/stop');
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    expect((await ari('POST', `bridges/${bridge}/addChannel?channel=${b}`)).status).toBe(204);
    // A removal waits its turn as well.
    await ari('POST', `channels/${a}/play/p2?media=sound:beep`);
    expect((await ari('POST', `bridges/${bridge}/removeChannel?channel=${a}`)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'ChannelLeftBridge' && about(a)(e)));
    const left = events.findIndex((e) => e.type === 'ChannelLeftBridge' && about(a)(e));
    const p2done = events.findIndex((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'p2');
    expect(left).toBeGreaterThan(p2done);
  });

  it('a continue departs the bridge first, and a variable set behind it is reported before StasisEnd', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    await ari('POST', `bridges/${bridge}/addChannel?channel=${ch}`);
    await ari('POST', `channels/${ch}/play/p1?media=sound:beep`);
    await ari('POST', `channels/${ch}/continue`);
    expect((await ari('POST', `channels/${ch}/variable?variable=AFTER&value=1`)).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd' && about(ch)(e)));
    const seq = events
      .filter((e) => about(ch)(e) || e.type === 'PlaybackFinished')
      .map((e) => e.type)
      .filter((t) => ['PlaybackFinished', 'ChannelLeftBridge', 'ChannelVarset', 'StasisEnd'].includes(t));
    expect(seq.slice(-4)).toEqual(['PlaybackFinished', 'ChannelLeftBridge', 'ChannelVarset', 'StasisEnd']);
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

  it('maxSilenceSeconds: a far end silent that long ends the recording, which reports its talking and silence', async () => {
    const { ari, call, events, s } = await setup();
    const ch = await call();
    // Talking (the simulated far end's default): a 1 s limit of silence never ends it.
    await ari('POST', `channels/${ch}/record?name=talk&format=wav&maxSilenceSeconds=1&maxDurationSeconds=1`);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished' && e.recording?.name === 'talk'));
    const talked = events.find((e) => e.type === 'RecordingFinished')!.recording!;
    expect([talked.duration, talked.talking_duration, talked.silence_duration]).toEqual([1, 1, 0]);
    // Silent from the start: the recording ends on its own after the second of silence (and a
    // frame); the trailing silence but 200 ms is taken off, 0.8 s rounding to nothing.
    s.setFarEndSilent(ch, true);
    await ari('POST', `channels/${ch}/record?name=quiet&format=wav&maxSilenceSeconds=1`);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished' && e.recording?.name === 'quiet'));
    const quiet = events.find((e) => e.type === 'RecordingFinished' && e.recording?.name === 'quiet')!
      .recording!;
    expect(quiet.state).toBe('done');
    expect(Object.keys(quiet)).toEqual([
      'name',
      'format',
      'state',
      'target_uri',
      'duration',
      'talking_duration',
      'silence_duration',
    ]);
    expect(quiet.silence_duration).toBe((quiet.duration as number) - (quiet.talking_duration as number));
    expect((await ari('GET', 'recordings/stored/quiet')).status).toBe(200);
  });

  it("maxSilenceSeconds on a bridge: the recorder hears every party's mix, silent only when all are", async () => {
    const { ari, call, events, s } = await setup();
    const a = await call();
    const b = await call();
    const bridge = (await ari('POST', 'bridges?type=mixing')).body.id as string;
    await ari('POST', `bridges/${bridge}/addChannel?channel=${a},${b}`);
    s.setFarEndSilent(a, true);
    await ari(
      'POST',
      `bridges/${bridge}/record?name=mix&format=wav&maxSilenceSeconds=1&maxDurationSeconds=2`,
    );
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    // One party still talks: its 2 s limit ends it, not silence.
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished' && e.recording?.name === 'mix'));
    const mixed = events.find((e) => e.type === 'RecordingFinished' && e.recording?.name === 'mix')!
      .recording!;
    expect([mixed.duration, mixed.silence_duration]).toEqual([2, 0]);
    // Both silent: it ends on its own after the second of silence (and a frame).
    s.setFarEndSilent(b, true);
    await ari(
      'POST',
      `bridges/${bridge}/record?name=hush&format=wav&maxSilenceSeconds=1&maxDurationSeconds=30`,
    );
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished' && e.recording?.name === 'hush'));
    const hush = events.find((e) => e.type === 'RecordingFinished' && e.recording?.name === 'hush')!
      .recording!;
    expect(hush.state).toBe('done');
    expect(hush.duration).toBeLessThan(30);
    expect(hush.silence_duration).toBe((hush.duration as number) - (hush.talking_duration as number));
  });

  it('beep: RecordingStarted comes first, and the recorded length starts after the beep', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/record?name=b1&format=wav&beep=true&maxDurationSeconds=1`);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    // A 250 ms beep, then one second recorded: told by the events' own times (when they were sent),
    // as a loaded machine may hand the first one to the test late.
    const at = (t: string) => Date.parse(String(events.find((e) => e.type === t)!.timestamp));
    expect(at('RecordingFinished') - at('RecordingStarted')).toBeGreaterThanOrEqual(1200);
    expect(events.find((e) => e.type === 'RecordingFinished')!.recording!.duration).toBe(1);
  });
});
