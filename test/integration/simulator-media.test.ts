// Media simulated by time, as res_stasis_playback.c and res_stasis_recording.c run it on Asterisk
// 22: one command queue per channel (a second playback or a playback behind a recording waits,
// answered "queued"), each media URI's PlaybackStarted/Continuing/Finished, the control table's
// statuses, a hangup failing what plays, recordings answering the channel, refusing a bridged one,
// and a cancelled recording still finishing "done" with no stored file.
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { simAri } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const setup = () => simAri(cleanup);

describe('simulator playbacks, by time and in turn', () => {
  it('plays each media URI in order, a missing sound failing and the next going on, and ends done', async () => {
    const { ari, call, media, events } = await setup();
    const ch = await call();
    const t0 = Date.now();
    const r = await ari(
      'POST',
      `channels/${ch}/play/p1?media=sound:beep,sound:no-such-sound,sound:hello-world`,
    );
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      id: 'p1',
      media_uri: 'sound:beep',
      next_media_uri: 'sound:no-such-sound',
      target_uri: `channel:${ch}`,
      state: 'queued',
    });
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));
    expect(media('p1')).toEqual([
      'PlaybackStarted:sound:beep',
      'PlaybackContinuing:sound:beep',
      'PlaybackStarted:sound:no-such-sound',
      'PlaybackContinuing:sound:no-such-sound',
      'PlaybackStarted:sound:hello-world',
      'PlaybackFinished:sound:hello-world',
    ]);
    // beep (250 ms) and hello-world (1200 ms) were played for their lengths.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1450);
    expect(events.find((e) => e.type === 'PlaybackFinished')!.playback!.state).toBe('done');
    expect((await ari('GET', 'playbacks/p1')).status).toBe(404);
  });

  it('a second playback waits its turn; stopping it while queued ends it only when its turn comes', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/play/first?media=sound:tt-weasels`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    const second = await ari('POST', `channels/${ch}/play/second?media=sound:beep`);
    expect(second.body.state).toBe('queued');
    expect((await ari('GET', 'playbacks/second')).body.state).toBe('queued');
    expect((await ari('DELETE', 'playbacks/second')).status).toBe(204);
    expect((await ari('GET', 'playbacks/second')).body.state).toBe('done');
    expect(events.filter((e) => e.playback?.id === 'second')).toEqual([]);
    expect((await ari('DELETE', 'playbacks/first')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'second'));
    const seen = events
      .filter((e) => e.playback)
      .map((e) => `${e.type}:${e.playback!.id}:${e.playback!.state}`);
    expect(seen).toEqual([
      'PlaybackStarted:first:playing',
      'PlaybackFinished:first:done',
      'PlaybackFinished:second:done',
    ]);
  });

  it('answers control as its state table does: pause silent, unpause PlaybackStarted, say-style not controllable', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/c1?media=sound:demo-congrats`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('POST', 'playbacks/c1/control')).body).toEqual({ message: 'Missing operation' });
    expect((await ari('POST', 'playbacks/nope/control?operation=jump')).body).toEqual({
      message: 'Invalid operation jump',
    });
    expect((await ari('POST', 'playbacks/nope/control?operation=pause')).status).toBe(404);
    expect((await ari('POST', 'playbacks/c1/control?operation=pause')).status).toBe(204);
    expect((await ari('GET', 'playbacks/c1')).body.state).toBe('paused');
    expect((await ari('POST', 'playbacks/c1/control?operation=restart')).body).toEqual({
      message: 'Can only restart while media is playing',
    });
    expect((await ari('POST', 'playbacks/c1/control?operation=pause')).status).toBe(204);
    expect((await ari('POST', 'playbacks/c1/control?operation=unpause')).status).toBe(204);
    await waitFor(() => events.filter((e) => e.type === 'PlaybackStarted').length === 2);
    // Forward past the end finishes the sound (11 s, skipped 3 s at a time).
    for (let i = 0; i < 4; i++) await ari('POST', 'playbacks/c1/control?operation=forward&skipms=3000');
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));

    await ari('POST', `channels/${ch}/play/d1?media=digits:1234567890`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted' && e.playback?.id === 'd1'));
    expect(await ari('DELETE', 'playbacks/d1')).toEqual({
      status: 500,
      body: { message: 'Could not stop playback' },
    });
  });

  it('a hangup fails what plays (before StasisEnd), and what waits starts and fails on the hung-up channel', async () => {
    const { s, ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/h1?media=sound:tt-monkeys`);
    await ari('POST', `channels/${ch}/play/h2?media=sound:beep`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    s.hangup(ch);
    await waitFor(() => events.some((e) => e.type === 'StasisEnd'));
    const order = events
      .filter((e) => e.playback || e.type === 'StasisEnd')
      .map((e) => `${e.type}:${String(e.playback?.state ?? '')}`);
    expect(order).toEqual([
      'PlaybackStarted:playing',
      'PlaybackFinished:failed',
      'PlaybackStarted:playing',
      'PlaybackFinished:failed',
      'StasisEnd:',
    ]);
    expect(events.filter((e) => e.playback).map((e) => e.playback!.id)).toEqual(['h1', 'h1', 'h2', 'h2']);
    expect((await ari('GET', 'playbacks/h2')).status).toBe(404);
  });

  it('a tone plays until stopped; a missing recording is skipped without a word', async () => {
    const { ari, call, events, media } = await setup();
    const ch = await call();
    await ari('POST', `channels/${ch}/play/t1?media=tone:ring`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('GET', 'playbacks/t1')).body.state).toBe('playing');
    expect((await ari('DELETE', 'playbacks/t1')).status).toBe(204);
    await ari('POST', `channels/${ch}/play/r1?media=recording:no-such,sound:beep`);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'r1'));
    expect(media('r1')).toEqual([
      'PlaybackStarted:recording:no-such',
      'PlaybackStarted:sound:beep',
      'PlaybackFinished:sound:beep',
    ]);
  });
});

describe('simulator recordings, by time', () => {
  it('answers the channel, records to its maximum, stores whole seconds; a playback waits behind it', async () => {
    const { ari, call, events, media } = await setup();
    const ch = await call(false);
    const r = await ari('POST', `channels/${ch}/record?name=rec1&format=wav&maxDurationSeconds=1`);
    expect(r).toEqual({
      status: 201,
      body: { name: 'rec1', format: 'wav', state: 'queued', target_uri: `channel:${ch}` },
    });
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    // ast_auto_answer: the channel was answered first.
    const up = events.findIndex(
      (e) => e.type === 'ChannelStateChange' && (e.channel as { state: string }).state === 'Up',
    );
    expect(up).toBeGreaterThanOrEqual(0);
    expect(up).toBeLessThan(events.findIndex((e) => e.type === 'RecordingStarted'));
    expect((await ari('POST', `channels/${ch}/play/after?media=sound:beep`)).body.state).toBe('queued');
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));
    // The playback started only once the recording had finished.
    const at = (t: string) => events.findIndex((e) => e.type === t);
    expect(at('PlaybackStarted')).toBeGreaterThan(at('RecordingFinished'));
    expect(media('rec1')).toEqual(['RecordingStarted:recording', 'RecordingFinished:done']);
    const fin = events.find((e) => e.type === 'RecordingFinished')!.recording!;
    expect(Number.isInteger(fin.duration)).toBe(true);
    expect(fin.duration).toBeGreaterThanOrEqual(1);
    expect(fin).not.toHaveProperty('talking_duration');
    expect((await ari('GET', 'recordings/stored/rec1')).body).toEqual({ name: 'rec1', format: 'wav' });
    expect(media('after')).toEqual(['PlaybackStarted:sound:beep', 'PlaybackFinished:sound:beep']);
  });

  it('checks as Asterisk does, in its order, and a cancelled recording finishes done with no file', async () => {
    const { ari, call, events } = await setup();
    // Durations are checked before the channel is looked up.
    expect((await ari('POST', 'channels/nope/record?name=x&format=wav&maxDurationSeconds=-1')).body).toEqual({
      message: 'max_duration_seconds cannot be negative',
    });
    expect((await ari('POST', 'channels/nope/record?name=x&format=wav')).status).toBe(404);
    const ch = await call();
    expect((await ari('POST', `channels/${ch}/record?name=x&format=wav&ifExists=sometimes`)).body).toEqual({
      message: 'ifExists invalid',
    });
    expect((await ari('POST', `channels/${ch}/record?name=x&format=mp9`)).status).toBe(422);
    expect((await ari('POST', `channels/${ch}/record?name=../../etc/x&format=wav`)).body).toEqual({
      message: 'Recording name invalid',
    });
    expect((await ari('POST', `channels/${ch}/record?format=wav`)).body).toEqual({
      message: 'Error parsing request',
    });
    // Queued behind a playback, it is not in session yet.
    await ari('POST', `channels/${ch}/play/w1?media=sound:tt-weasels`);
    expect((await ari('POST', `channels/${ch}/record?name=c1&format=wav&maxSilenceSeconds=5`)).status).toBe(
      201,
    );
    expect((await ari('POST', 'recordings/live/c1/pause')).body).toEqual({
      message: 'Recording not in session',
    });
    expect((await ari('DELETE', 'playbacks/w1')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    expect((await ari('POST', `channels/${ch}/record?name=c1&format=wav`)).status).toBe(409);
    expect((await ari('POST', 'recordings/live/c1/pause')).status).toBe(204);
    expect((await ari('GET', 'recordings/live/c1')).body.state).toBe('paused');
    expect((await ari('DELETE', 'recordings/live/c1')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    expect(events.find((e) => e.type === 'RecordingFinished')!.recording).toMatchObject({
      state: 'done',
      talking_duration: expect.any(Number),
      silence_duration: 0,
    });
    expect((await ari('GET', 'recordings/stored/c1')).status).toBe(404);
    expect((await ari('GET', 'recordings/live/c1')).status).toBe(404);
  });

  it('refuses to record a channel in a bridge: RecordingFailed with the cause', async () => {
    const { ari, call, events } = await setup();
    const ch = await call();
    await ari('POST', 'bridges/b1?type=mixing');
    expect((await ari('POST', `bridges/b1/addChannel?channel=${ch}`)).status).toBe(204);
    expect((await ari('POST', `channels/${ch}/record?name=inb&format=wav`)).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'RecordingFailed'));
    expect(events.find((e) => e.type === 'RecordingFailed')!.recording).toMatchObject({
      name: 'inb',
      state: 'failed',
      cause: 'Cannot record channel while in bridge',
    });
  });
});

describe('simulator channel operations guarded as resource_channels.c guards them', () => {
  it('refuses an outgoing channel not answered yet (412) and a mute with no direction (400)', async () => {
    const { ari, call } = await setup();
    const made = await ari(
      'POST',
      'channels/create?endpoint=Local/s@nowhere&app=capconduit&channelId=down-1',
    );
    expect(made.body.state).toBe('Down');
    for (const op of ['ring', 'hold', 'moh', 'silence', 'answer', 'play?media=sound:beep'])
      expect((await ari('POST', `channels/down-1/${op}`)).body, op).toEqual({
        message: 'Channel in invalid state',
      });
    const ch = await call(false); // incoming, Ring: valid
    expect((await ari('POST', `channels/${ch}/hold`)).status).toBe(204);
    expect((await ari('POST', `channels/${ch}/mute`)).body).toEqual({ message: 'Direction is required' });
    expect((await ari('POST', `channels/${ch}/mute?direction=sideways`)).body).toEqual({
      message: 'Invalid direction specified',
    });
    expect((await ari('POST', `channels/${ch}/mute?direction=in`)).status).toBe(204);
  });
});
