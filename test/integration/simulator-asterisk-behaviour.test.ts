// What a real Asterisk 22.10.1 did in the recorded scenarios, checked on the simulator through our
// own clients: channels/create of a Local dial string (a pair whose ;2 runs the dialplan), a far end that hangs up busy (ChannelDestroyed with
// cause 17 and no final Dial), and a dialplan channel leaving the app with StasisEnd only. Also, from
// Asterisk's source: a Local far side that indicates busy or congestion (Busy(), Congestion(), a
// busy Dial falling off the end of its extension) is reported in a Dial event and AMI DialEnd while
// the dialled leg stays up; an originate towards it fails with that reason.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AmiEvent } from '../../src/asterisk/ami.ts';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { amiClient, ariClient, connected } from '../helpers/sim-clients.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

type Ev = AnyAriEvent & {
  channel?: { id: string; name: string };
  peer?: { id: string };
  dialstatus?: string;
  cause?: number;
};

// The project's dialplan plus far sides that indicate instead of hanging up.
const DIALPLAN = join(tmpdir(), `sim-busy-${process.pid}.conf`);
writeFileSync(
  DIALPLAN,
  `[from-carrier]
exten => _X.,1,Stasis(capconduit,inbound)
 same => n,Hangup()
[far]
exten => busy,1,Busy()
exten => congested,1,Congestion()
exten => dialbusy,1,Dial(PJSIP/busyep,30)
exten => hangsup,1,Hangup(17)
[hold]
exten => wait,1,Answer()
 same => n,Wait(3600)
`,
);

async function setup() {
  const s = await startSim(cleanup, {
    badLoginDelayMs: 50,
    dialplanPath: DIALPLAN,
    endpoints: { busyep: { result: 'busy', answerAfterMs: 5 } },
  });
  const { c: ari, events } = ariClient<Ev>(s.ariUrl, cleanup);
  await connected(ari);
  const { c: ami, events: amiEvents } = amiClient(s, cleanup);
  await connected(ami);
  return { s, ari, events, ami, amiEvents };
}

describe('the simulator as a real Asterisk 22 behaved', () => {
  it('creates a Local dial string as a pair; a busy far end ends the leg with cause 17 and no final Dial', async () => {
    const { ari, events } = await setup();
    const leg = await ari.channels.create({
      endpoint: 'Local/14155550100@from-carrier',
      app: 'capconduit',
      channelId: 'leg-1',
    });
    expect(leg).toMatchObject({ id: 'leg-1', state: 'Down' });
    expect(leg.name).toMatch(/^Local\/14155550100@from-carrier-[0-9a-f]{8};1$/);
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-1'));
    await ari.channels.dial('leg-1', { timeout: 30 });
    // The far side (`;2`, id `leg-1;2`) runs the dialplan into the app.
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-1;2'));
    expect(events.find((e) => e.type === 'Dial' && e.peer?.id === 'leg-1')?.dialstatus).toBe('');
    await ari.channels.hangup('leg-1;2', 'busy');
    const gone = await waitFor(() =>
      events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-1'),
    );
    expect(gone.cause).toBe(17);
    const finals = events.filter((e) => e.type === 'Dial' && !['', 'RINGING'].includes(e.dialstatus ?? ''));
    expect(finals).toEqual([]);
    // `;2` entered Stasis from the dialplan: StasisEnd, and no ChannelDestroyed in the app.
    await waitFor(() => events.find((e) => e.type === 'StasisEnd' && e.channel?.id === 'leg-1;2'));
    expect(events.some((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-1;2')).toBe(false);
  });

  it('a Local far side indicating busy or congestion: Dial BUSY/CONGESTION and AMI DialEnd, the leg stays up', async () => {
    const { ari, events, amiEvents } = await setup();
    for (const [exten, status] of [
      ['busy', 'BUSY'],
      ['congested', 'CONGESTION'],
      ['dialbusy', 'BUSY'],
    ] as const) {
      const id = `leg-${exten}`;
      await ari.channels.create({ endpoint: `Local/${exten}@far`, app: 'capconduit', channelId: id });
      await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === id));
      await ari.channels.dial(id, { timeout: 3600 });
      const dial = await waitFor(() =>
        events.find((e) => e.type === 'Dial' && e.peer?.id === id && e.dialstatus === status),
      );
      expect(dial).toMatchObject({ dialstatus: status });
      const end = await waitFor(() =>
        amiEvents.find((e) => e.event === 'DialEnd' && e.fields.destuniqueid === id),
      );
      expect(end.fields.dialstatus).toBe(status);
      // Still there: no hangup, no ChannelDestroyed; the far side shows Busy.
      expect(await ari.channels.get(id)).toMatchObject({ id });
      expect(await ari.channels.get(`${id};2`)).toMatchObject({ state: 'Busy' });
      expect(events.some((e) => e.channel?.id === id && e.type === 'ChannelDestroyed')).toBe(false);
      // When the far side finally goes, the leg goes with its cause.
      await ari.channels.hangup(id);
      await waitFor(() => events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === id));
    }
  });

  it('other failure causes of a dialled leg reach it through the pair, named as ast_cause2str names them', async () => {
    const { s, ari, events, amiEvents } = await setup();
    // ARI hangup reasons (convert_reason_to_hangup_code) and raw Q.850 codes on the far side.
    const cases: Array<[string, number, string]> = [
      ['reason=congestion', 34, 'Circuit/channel congestion'],
      ['reason=rejected', 21, 'Call Rejected'],
      ['reason=unallocated', 1, 'Unallocated (unassigned) number'],
      ['reason=failure', 38, 'Network out of order'],
      ['reason=timeout', 18, 'No user responding'],
      ['reason_code=27', 27, 'Destination out of order'],
      ['reason_code=102', 102, 'Recover on timer expiry'],
      ['reason_code=47', 47, 'Unknown'],
    ];
    const auth = `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}`;
    for (const [i, [query, cause, text]] of cases.entries()) {
      const id = `leg-c${i}`;
      await ari.channels.create({
        endpoint: 'Local/14155550100@from-carrier',
        app: 'capconduit',
        channelId: id,
      });
      await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === id));
      await ari.channels.dial(id, { timeout: 30 });
      await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === `${id};2`));
      const r = await fetch(`${s.ariUrl}/ari/channels/${encodeURIComponent(`${id};2`)}?${query}`, {
        method: 'DELETE',
        headers: { authorization: auth },
      });
      expect(r.status, query).toBe(204);
      const gone = await waitFor(() =>
        events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === id),
      );
      expect([gone.cause, (gone as { cause_txt?: string }).cause_txt], query).toEqual([cause, text]);
      const hangup = await waitFor(() =>
        amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === id),
      );
      expect([hangup.fields.cause, hangup.fields['cause-txt']], query).toEqual([String(cause), text]);
    }
  });

  it('a far end that answers as the dial starts, before any ringing: Dial "" then ANSWER, no RINGING', async () => {
    const { ari, events, amiEvents } = await setup();
    await ari.channels.create({
      endpoint: 'Local/14155550100@from-carrier',
      app: 'capconduit',
      channelId: 'race',
    });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'race'));
    // The far side is answered the moment it shows up, with no ring first.
    ari.on('event', (e: Ev) => {
      if (e.type === 'StasisStart' && e.channel?.id === 'race;2') void ari.channels.answer('race;2');
    });
    await ari.channels.dial('race', { timeout: 30 });
    await waitFor(() =>
      events.find((e) => e.type === 'Dial' && e.peer?.id === 'race' && e.dialstatus === 'ANSWER'),
    );
    expect(events.filter((e) => e.type === 'Dial' && e.peer?.id === 'race').map((e) => e.dialstatus)).toEqual(
      ['', 'ANSWER'],
    );
    const dialEnd = await waitFor(() =>
      amiEvents.find((e) => e.event === 'DialEnd' && e.fields.destuniqueid === 'race'),
    );
    expect(dialEnd.fields.dialstatus).toBe('ANSWER');
    expect(amiEvents.some((e) => e.event === 'DialState' && e.fields.destuniqueid === 'race')).toBe(false);
    expect(await ari.channels.get('race')).toMatchObject({ state: 'Up' });
  });

  it('a Local far side that hangs up ends the leg with ChannelDestroyed and its cause, no final Dial', async () => {
    const { ari, events, amiEvents } = await setup();
    await ari.channels.create({ endpoint: 'Local/hangsup@far', app: 'capconduit', channelId: 'leg-h' });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-h'));
    await ari.channels.dial('leg-h', { timeout: 3600 });
    const gone = await waitFor(() =>
      events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-h'),
    );
    expect(gone.cause).toBe(17);
    expect(
      events.filter((e) => e.type === 'Dial' && e.peer?.id === 'leg-h').map((e) => e.dialstatus),
    ).toEqual(['']);
    expect(amiEvents.some((e) => e.event === 'DialEnd' && e.fields.destuniqueid === 'leg-h')).toBe(false);
  });

  it('an AMI Originate towards a busy Local far side fails with reason 5 after Dial BUSY', async () => {
    const { ami, amiEvents } = await setup();
    const r = await ami.action('Originate', {
      Channel: 'Local/busy@far',
      Application: 'Wait',
      Data: '10',
      Async: 'true',
      ChannelId: 'orig-b',
    });
    expect(r.response.fields.response).toBe('Success');
    const resp = await waitFor(() => amiEvents.find((e) => e.event === 'OriginateResponse'));
    expect(resp.fields).toMatchObject({ response: 'Failure', reason: '5' });
    expect(
      amiEvents.find((e) => e.event === 'DialEnd' && e.fields.destuniqueid === 'orig-b')?.fields.dialstatus,
    ).toBe('BUSY');
    // dial.c hangs the channel up itself after the indication: no cause is set on it.
    expect(amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'orig-b')?.fields.cause).toBe(
      '0',
    );
  });

  it("a dialplan half hung up by its peer with any cause: its PBX thread's soft request says 16 (AST_SOFTHANGUP_APPUNLOAD)", async () => {
    const { ari, events, amiEvents } = await setup();
    // POST /channels subscribes the app to both halves; `;2` enters Stasis from the dialplan.
    await ari.channels.originate({
      endpoint: 'Local/14155550100@from-carrier',
      app: 'capconduit',
      channelId: 'o-1',
    });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'o-1;2'));
    await ari.channels.hangup('o-1', 'busy');
    await waitFor(() => amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'o-1;2'));
    const requests = events
      .filter((e) => e.type === 'ChannelHangupRequest' && e.channel?.id === 'o-1;2')
      .map((e) => [e.cause, (e as { soft?: boolean }).soft ?? false]);
    expect(requests).toEqual([
      [17, false],
      [16, true],
    ]);
    const ami = amiEvents
      .filter((e) => /HangupRequest$|^Hangup$/.test(e.event) && e.fields.uniqueid === 'o-1;2')
      .map((e) => `${e.event} ${e.fields.cause}`);
    expect(ami).toEqual(['HangupRequest 17', 'SoftHangupRequest 16', 'Hangup 17']);
  });

  it('DeviceStateChange after every state change and hangup: a Local device in use while its pair is joined, a PJSIP device from its channels', async () => {
    const { ari, events, amiEvents } = await setup();
    const devices = () =>
      amiEvents
        .filter((e) => e.event === 'DeviceStateChange')
        .map((e) => `${e.fields.device} ${e.fields.state}`);
    // A PJSIP endpoint that rings, then hangs up busy.
    await ari.channels.create({ endpoint: 'PJSIP/busyep', app: 'capconduit', channelId: 'p-1' });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'p-1'));
    await ari.channels.dial('p-1', { timeout: 30 });
    await waitFor(() => amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'p-1'));
    await waitFor(() => devices().length === 2);
    expect(devices()).toEqual(['PJSIP/busyep RINGING', 'PJSIP/busyep NOT_INUSE']);
    // A Local pair joined (LocalBridge), answered (two state changes), hung up (two destructions).
    await ari.channels.originate({
      endpoint: 'Local/14155550100@from-carrier',
      app: 'capconduit',
      channelId: 'l-1',
    });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'l-1;2'));
    const bridge = await waitFor(() => amiEvents.find((e) => e.event === 'LocalBridge'));
    expect(bridge.fields).toMatchObject({
      localonechannel: expect.stringMatching(/^Local\/14155550100@from-carrier-[0-9a-f]{8};1$/),
      localoneuniqueid: 'l-1',
      localtwouniqueid: 'l-1;2',
      context: 'from-carrier',
      exten: '14155550100',
      localoptimization: 'Yes',
    });
    await ari.channels.answer('l-1;2');
    await waitFor(() => devices().length === 4);
    await ari.channels.hangup('l-1');
    await waitFor(() => devices().length === 6);
    expect(devices().slice(2)).toEqual([
      'Local/14155550100@from-carrier INUSE',
      'Local/14155550100@from-carrier INUSE',
      'Local/14155550100@from-carrier NOT_INUSE',
      'Local/14155550100@from-carrier NOT_INUSE',
    ]);
  });

  it('AMI Hangup raises the soft-hangup flag without a request: only the PBX threads report their own (16)', async () => {
    const { ami, amiEvents } = await setup();
    await ami.action('Originate', {
      Channel: 'Local/wait@hold',
      Context: 'hold',
      Exten: 'wait',
      Priority: '1',
      Async: 'true',
      ChannelId: 'h-1',
    });
    await waitFor(() => amiEvents.find((e) => e.event === 'OriginateResponse'));
    const r = await ami.action('Hangup', { Channel: 'h-1' });
    expect(r.response.fields.message).toBe('Channel Hungup');
    await waitFor(() => amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'h-1;2'));
    const seq = (id: string) =>
      amiEvents
        .filter((e) => /HangupRequest$|^Hangup$/.test(e.event) && e.fields.uniqueid === id)
        .map((e) => `${e.event} ${e.fields.cause}`);
    expect(seq('h-1')).toEqual(['SoftHangupRequest 16', 'Hangup 0']);
    expect(seq('h-1;2')).toEqual(['HangupRequest 0', 'SoftHangupRequest 16', 'Hangup 0']);
  });
});

describe('a Local pair whose `;2` was never called, as core_unreal.c ends it', () => {
  /** The pair's AMI hangup events, as `Event uniqueid cause`. */
  const hangups = (amiEvents: AmiEvent[], id: string) =>
    amiEvents
      .filter((e) => /Hangup/.test(e.event) && e.fields.uniqueid?.startsWith(id))
      .map((e) => `${e.event} ${e.fields.uniqueid} ${e.fields.cause}`);

  it('hung up over ARI, `;1` hangs `;2` up itself: no request for `;2`, which is gone first, with no cause', async () => {
    const { ari, events, amiEvents } = await setup();
    await ari.channels.create({ endpoint: 'Local/wait@hold', app: 'capconduit', channelId: 'nc-1' });
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'nc-1'));
    await ari.channels.hangup('nc-1');
    await waitFor(() => amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'nc-1'));
    expect(hangups(amiEvents, 'nc-1')).toEqual([
      'SoftHangupRequest nc-1 32',
      'Hangup nc-1;2 0',
      'Hangup nc-1 16',
    ]);
    expect(
      events.filter((e) => e.type === 'ChannelHangupRequest').map((e) => [e.channel?.id, e.cause]),
    ).toEqual([['nc-1', 32]]);
  });

  it('created with no app, the pair is hung up at once with no request at all, `;2` first', async () => {
    const { ari, amiEvents } = await setup();
    await ari.channels.create({ endpoint: 'Local/wait@hold', channelId: 'na-1' } as never);
    await waitFor(() => amiEvents.find((e) => e.event === 'Hangup' && e.fields.uniqueid === 'na-1'));
    expect(hangups(amiEvents, 'na-1')).toEqual(['Hangup na-1;2 0', 'Hangup na-1 0']);
  });
});
