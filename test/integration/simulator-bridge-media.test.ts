// A bridge's media as resource_bridges.c runs it on Asterisk 22: playbacks through one announcer
// channel (Announcer/ARI-<8 hex>;1/;2) that serves them in turn and hangs up when none is left,
// recordings through a recorder channel each (Recorder/ARI-...), both internal — never in an ARI
// event, a channel list or a bridge's channel list — yet counted by the bridge, which turns softmix
// with more than two channels; a recorder left alone in the bridge is kicked out (lonely), ending
// its recording; a refusal after the media channel joined takes it out again.
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { simAri } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

/** A simulator with a mixing bridge `b1` holding `parties` answered inbound calls. */
async function bridged(parties: number) {
  const t = await simAri(cleanup);
  expect((await t.ari('POST', 'bridges/b1?type=mixing')).status).toBe(200);
  const ids: string[] = [];
  for (let i = 0; i < parties; i++) {
    const id = await t.call();
    expect((await t.ari('POST', `bridges/b1/addChannel?channel=${id}`)).status).toBe(204);
    ids.push(id);
  }
  /** The media channels alive, by name with the counter masked. */
  const mediaChannels = () =>
    t.s
      .liveChannels()
      .map((c) => c.name)
      .filter((n) => /^(Announcer|Recorder)\//.test(n))
      .map((n) => n.replace(/-[0-9a-f]{8};/, '-X;'));
  /**
   * No event is about an internal channel, and no bridge lists one. (A variable's value may name
   * one: bridge.c's BRIDGEPEER counts every channel of the bridge.)
   */
  const noInternal = () => {
    for (const e of t.events) {
      for (const k of ['channel', 'peer', 'caller'])
        expect((e[k] as { name?: string } | undefined)?.name ?? '').not.toMatch(/^(Announcer|Recorder)\//);
      const b = e.bridge as { channels?: string[] } | undefined;
      for (const id of b?.channels ?? []) expect(ids).toContain(id);
    }
  };
  return { ...t, ids, mediaChannels, noInternal };
}

describe('simulator bridge playback through an announcer channel', () => {
  it('plays through one announcer that joins the bridge, serves a second playback in turn and hangs up', async () => {
    const { ari, events, media, ids, mediaChannels, noInternal } = await bridged(1);
    const r = await ari('POST', 'bridges/b1/play/p1?media=sound:beep');
    expect(r).toEqual({
      status: 201,
      body: {
        id: 'p1',
        media_uri: 'sound:beep',
        target_uri: 'bridge:b1',
        language: 'en',
        state: 'queued',
      },
    });
    // The announcer pair is up and its `;2` is in the bridge, which lists only the caller.
    expect(mediaChannels()).toEqual(['Announcer/ARI-X;1', 'Announcer/ARI-X;2']);
    const b = (await ari('GET', 'bridges/b1')).body;
    expect(b).toMatchObject({ channels: [ids[0]], technology: 'simple_bridge' });
    const listed = (await ari('GET', 'channels')).body as unknown as Array<{ id: string; name: string }>;
    expect(listed.map((c) => c.id)).toContain(ids[0]);
    expect(listed.filter((c) => /^(Announcer|Recorder)\//.test(c.name))).toEqual([]);
    // A second playback goes to the same announcer and waits its turn.
    expect((await ari('POST', 'bridges/b1/play/p2?media=sound:vm-goodbye')).body.state).toBe('queued');
    expect(mediaChannels()).toHaveLength(2);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished' && e.playback?.id === 'p2'));
    expect(media('p1')).toEqual(['PlaybackStarted:sound:beep', 'PlaybackFinished:sound:beep']);
    expect(media('p2')).toEqual(['PlaybackStarted:sound:vm-goodbye', 'PlaybackFinished:sound:vm-goodbye']);
    const at = (type: string, id: string) =>
      events.findIndex((e) => e.type === type && e.playback?.id === id);
    expect(at('PlaybackStarted', 'p2')).toBeGreaterThan(at('PlaybackFinished', 'p1'));
    // Nothing left to play: the announcer hung up.
    await waitFor(() => mediaChannels().length === 0);
    noInternal();
    // Two channels in the bridge while it played: the caller's BRIDGEPEER named the announcer.
    expect(
      events.some(
        (e) =>
          e.type === 'ChannelVarset' &&
          e.variable === 'BRIDGEPEER' &&
          /^Announcer\/ARI-/.test(String(e.value)),
      ),
    ).toBe(true);
    // A later playback brings a new announcer.
    expect((await ari('POST', 'bridges/b1/play/p3?media=sound:beep')).status).toBe(201);
    expect(mediaChannels()).toEqual(['Announcer/ARI-X;1', 'Announcer/ARI-X;2']);
  });

  it('refuses as resource_bridges.c does: an unknown announcer_format before, a bad skipms after the announcer joined', async () => {
    const { ari, s, mediaChannels } = await bridged(1);
    expect((await ari('POST', 'bridges/b1/play?media=sound:beep&announcer_format=mp9')).body).toEqual({
      message: 'specified announcer_format is unknown on this system',
    });
    const before = s.channelCount();
    expect(await ari('POST', 'bridges/b1/play?media=sound:beep&skipms=-1')).toEqual({
      status: 500,
      body: { error: 'Allocation failed' },
    });
    expect(mediaChannels()).toEqual([]);
    expect(s.channelCount()).toBe(before);
    expect((await ari('POST', 'bridges/nope/play?media=sound:beep')).status).toBe(404);
  });

  it('a bridge destroyed while it plays: the announcer goes with it and the playback fails after BridgeDestroyed', async () => {
    const { ari, events, mediaChannels } = await bridged(1);
    await ari('POST', 'bridges/b1/play/long?media=sound:demo-congrats');
    await waitFor(() => events.some((e) => e.type === 'PlaybackStarted'));
    expect((await ari('DELETE', 'bridges/b1')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));
    expect(events.find((e) => e.type === 'PlaybackFinished')!.playback!.state).toBe('failed');
    const at = (type: string) => events.findIndex((e) => e.type === type);
    expect(at('PlaybackFinished')).toBeGreaterThan(at('BridgeDestroyed'));
    expect(mediaChannels()).toEqual([]);
  });
});

describe('simulator bridge recording through a recorder channel', () => {
  it('records through a recorder of its own: the bridge turns softmix with three channels and back', async () => {
    const { ari, events, media, ids, mediaChannels, noInternal } = await bridged(2);
    const r = await ari('POST', 'bridges/b1/record?name=call1&format=wav');
    expect(r).toEqual({
      status: 201,
      body: { name: 'call1', format: 'wav', state: 'queued', target_uri: 'bridge:b1' },
    });
    expect(mediaChannels()).toEqual(['Recorder/ARI-X;1', 'Recorder/ARI-X;2']);
    expect((await ari('GET', 'bridges/b1')).body).toMatchObject({ channels: ids, technology: 'softmix' });
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    // A playback at the same time has an announcer of its own, not the recorder's queue.
    await ari('POST', 'bridges/b1/play/p1?media=sound:beep');
    await waitFor(() => events.some((e) => e.type === 'PlaybackFinished'));
    expect(events.some((e) => e.type === 'RecordingFinished')).toBe(false);
    expect((await ari('POST', 'recordings/live/call1/stop')).status).toBe(204);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    expect(media('call1')).toEqual(['RecordingStarted:recording', 'RecordingFinished:done']);
    expect(events.find((e) => e.type === 'RecordingFinished')!.recording!.target_uri).toBe('bridge:b1');
    await waitFor(() => mediaChannels().length === 0);
    expect((await ari('GET', 'bridges/b1')).body).toMatchObject({
      channels: ids,
      technology: 'simple_bridge',
    });
    expect((await ari('GET', 'recordings/stored/call1')).body).toEqual({ name: 'call1', format: 'wav' });
    noInternal();
  });

  it('a recorder left alone in the bridge is kicked out: the recording finishes done and is stored', async () => {
    const { ari, events, ids, s, mediaChannels } = await bridged(1);
    expect((await ari('POST', 'bridges/b1/record?name=lone&format=wav')).status).toBe(201);
    await waitFor(() => events.some((e) => e.type === 'RecordingStarted'));
    s.hangup(ids[0]!);
    await waitFor(() => events.some((e) => e.type === 'RecordingFinished'));
    expect(events.find((e) => e.type === 'RecordingFinished')!.recording).toMatchObject({
      name: 'lone',
      state: 'done',
    });
    expect(mediaChannels()).toEqual([]);
    // The bridge itself stays, empty, until it is deleted.
    expect((await ari('GET', 'bridges/b1')).body).toMatchObject({ channels: [] });
    expect((await ari('GET', 'recordings/stored/lone')).status).toBe(200);
  });

  it('checks formats before the recorder joins and takes it out again on a later refusal', async () => {
    const { ari, s, mediaChannels } = await bridged(1);
    const before = s.channelCount();
    const refused = async (q: string) => {
      const r = await ari('POST', `bridges/b1/record?${q}`);
      expect(mediaChannels(), q).toEqual([]);
      expect(s.channelCount(), q).toBe(before);
      return r;
    };
    expect((await refused('name=x&format=mp9')).body).toEqual({
      message: 'specified format is unknown on this system',
    });
    expect((await refused('name=x&format=wav&recorder_format=mp9')).body).toEqual({
      message: 'specified recorder_format is unknown on this system',
    });
    expect((await refused('name=x&format=wav&terminateOn=5')).body).toEqual({
      message: 'terminateOn invalid',
    });
    expect((await refused('name=x&format=wav&ifExists=maybe')).body).toEqual({ message: 'ifExists invalid' });
    expect((await refused('name=../../x&format=wav')).body).toEqual({ message: 'Recording name invalid' });
    expect((await ari('POST', 'bridges/b1/record?name=dup&format=wav')).status).toBe(201);
    expect((await ari('POST', 'bridges/b1/record?name=dup&format=wav')).status).toBe(409);
    expect(mediaChannels()).toHaveLength(2);
  });
});
