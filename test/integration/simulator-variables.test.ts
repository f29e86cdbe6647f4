// Channel variables and party changes as the simulator reports them on both interfaces, beyond
// what the recorded scenarios show (those are replayed frame by frame in
// simulator-scenarios.test.ts): AMI VarSet only to sessions sent the dialplan class, a global
// variable naming no channel, values printed with C escapes, CALLERID() writes as NewCallerid and
// ChannelCallerId only when the caller id changes, and BRIDGEPEER as bridge.c sets it for two,
// three and holding-bridge parties.
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp, startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

type Ev = { type: string; application: string } & Record<string, unknown>;
type Frame = Record<string, string>;

async function setup() {
  const s = await startSim(cleanup, { channelVars: [] });
  const events: Ev[] = [];
  const ws = await holdApp(s, 'app', cleanup);
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as Ev));
  const ari = async (method: string, path: string) => {
    const r = await fetch(
      `${s.ariUrl}/ari/${path}${path.includes('?') ? '&' : '?'}api_key=asterisk:asterisk`,
      {
        method,
      },
    );
    return r.status;
  };
  /** A manager session logged in with the `Events` given; its events parsed, in order. */
  const manager = async (events: string) => {
    const frames: Frame[] = [];
    let buf = '';
    const sock: Socket = connect(s.amiPort, '127.0.0.1');
    cleanup.push(() => sock.destroy());
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
      let i = buf.indexOf('\r\n\r\n');
      while (i >= 0) {
        const f: Frame = {};
        for (const line of buf.slice(0, i).split('\r\n')) {
          const k = line.indexOf(': ');
          if (k > 0) f[line.slice(0, k)] = line.slice(k + 2);
        }
        frames.push(f);
        buf = buf.slice(i + 4);
        i = buf.indexOf('\r\n\r\n');
      }
    });
    sock.write(`Action: Login\r\nUsername: asterisk\r\nSecret: asterisk\r\nEvents: ${events}\r\n\r\n`);
    await waitFor(() => frames.some((f) => f.Message === 'Authentication accepted'));
    const send = (fields: Frame) =>
      sock.write(
        `${Object.entries(fields)
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('')}\r\n`,
      );
    return { frames, send };
  };
  /** A channel made by the app (a Local `;1`, in Stasis, never dialled). */
  const channel = async (id: string) => {
    expect(await ari('POST', `channels/create?endpoint=Local/${id}@nowhere&app=app&channelId=${id}`)).toBe(
      200,
    );
    await waitFor(() => events.some((e) => e.type === 'StasisStart' && (e.channel as Frame).id === id));
  };
  return { s, ari, events, manager, channel };
}

const varsets = (events: Ev[], id: string) =>
  events
    .filter((e) => e.type === 'ChannelVarset' && (e.channel as Frame).id === id)
    .map((e) => `${e.variable}=${e.value}`);

describe('simulator channel variables and party changes', () => {
  it('VarSet goes to sessions sent the dialplan class, with C escapes; a global names no channel', async () => {
    const { ari, events, manager, channel } = await setup();
    const all = await manager('on');
    const callOnly = await manager('call');
    await channel('v1');
    expect(
      await ari('POST', `channels/v1/variable?variable=NOTE&value=${encodeURIComponent('say "hi"\n')}`),
    ).toBe(204);
    all.send({ Action: 'Setvar', Channel: 'v1', Variable: 'VIA_AMI', Value: 'x' });
    all.send({ Action: 'Setvar', Variable: 'GLOBAL_ONE', Value: '1', ActionID: 'g' });
    await waitFor(() => all.frames.some((f) => f.Event === 'VarSet' && f.Variable === 'GLOBAL_ONE'));
    const vs = all.frames.filter((f) => f.Event === 'VarSet');
    expect(vs.map((f) => `${f.Channel === 'none' ? 'none' : f.Uniqueid}:${f.Variable}=${f.Value}`)).toEqual([
      'v1:STASISSTATUS=',
      'v1:NOTE=say \\"hi\\"\\n',
      'v1:VIA_AMI=x',
      'none:GLOBAL_ONE=1',
    ]);
    expect(vs[0]!.Privilege).toBe('dialplan,all');
    expect(Object.keys(vs[3]!)).toEqual(['Event', 'Privilege', 'Channel', 'Uniqueid', 'Variable', 'Value']);
    expect(vs[3]!.Uniqueid).toBe('none');
    // The app hears its channel's variables (not the global one), the value unescaped.
    expect(varsets(events, 'v1')).toEqual(['STASISSTATUS=', 'NOTE=say "hi"\n', 'VIA_AMI=x']);
    // A session sent only the call class gets the channel but no dialplan events.
    expect(callOnly.frames.some((f) => f.Event === 'Newchannel' && f.Uniqueid === 'v1')).toBe(true);
    expect(callOnly.frames.some((f) => f.Event === 'VarSet' || f.Event === 'Newexten')).toBe(false);
  });

  it('CALLERID() written over ARI: NewCallerid and ChannelCallerId when it changes, nothing when it does not', async () => {
    const { ari, events, manager, channel } = await setup();
    const all = await manager('on');
    await channel('c1');
    expect(await ari('POST', 'channels/c1/variable?variable=CALLERID(num)&value=15550001234')).toBe(204);
    expect(await ari('POST', 'channels/c1/variable?variable=CALLERID(num)&value=15550001234')).toBe(204);
    expect(await ari('POST', 'channels/c1/variable?variable=MARK&value=1')).toBe(204);
    await waitFor(() => all.frames.some((f) => f.Variable === 'MARK'));
    const cid = all.frames.filter((f) => f.Event === 'NewCallerid');
    expect(cid.map((f) => [f.Uniqueid, f.CallerIDNum, f['CID-CallingPres']])).toEqual([
      ['c1', '15550001234', '0 (Presentation Allowed, Not Screened)'],
    ]);
    const ev = events.filter((e) => e.type === 'ChannelCallerId');
    expect(ev).toHaveLength(1);
    expect(Object.keys(ev[0]!)).toEqual([
      'type',
      'timestamp',
      'caller_presentation',
      'caller_presentation_txt',
      'channel',
      'asterisk_id',
      'application',
    ]);
    expect((ev[0]!.channel as { caller: Frame }).caller.number).toBe('15550001234');
    // A function written is not a variable set.
    expect(varsets(events, 'c1')).toEqual(['STASISSTATUS=', 'MARK=1']);
  });

  it('BRIDGEPEER: each of two names the other, of three the others; leaving unsets it; a holding bridge sets none', async () => {
    const { ari, events, channel } = await setup();
    for (const id of ['p1', 'p2', 'p3', 'h1', 'h2']) {
      await channel(id);
      expect(await ari('POST', `channels/${id}/variable?variable=CALLERID(num)&value=${id}`)).toBe(204);
    }
    const name = (id: string) =>
      (events.find((e) => e.type === 'StasisStart' && (e.channel as Frame).id === id)!.channel as Frame).name;
    expect(await ari('POST', 'bridges/b1?type=mixing')).toBe(200);
    expect(await ari('POST', 'bridges/b1/addChannel?channel=p1')).toBe(204);
    expect(await ari('POST', 'bridges/b1/addChannel?channel=p2')).toBe(204);
    expect(await ari('POST', 'bridges/b1/addChannel?channel=p3')).toBe(204);
    expect(await ari('POST', 'bridges/b1/removeChannel?channel=p1')).toBe(204);
    expect(await ari('POST', 'bridges/h?type=holding')).toBe(200);
    expect(await ari('POST', 'bridges/h/addChannel?channel=h1')).toBe(204);
    expect(await ari('POST', 'bridges/h/addChannel?channel=h2')).toBe(204);
    await waitFor(() => varsets(events, 'p1').includes('BRIDGEPEER='));
    await waitFor(() =>
      events.some((e) => e.type === 'ChannelEnteredBridge' && (e.channel as Frame).id === 'h2'),
    );
    const peers = (id: string) => varsets(events, id).filter((v) => v.startsWith('BRIDGEPEER'));
    expect(peers('p1')).toEqual([
      `BRIDGEPEER=${name('p2')}`,
      `BRIDGEPEER=${name('p2')},${name('p3')}`,
      'BRIDGEPEER=',
    ]);
    expect(peers('p2')).toEqual([
      `BRIDGEPEER=${name('p1')}`,
      `BRIDGEPEER=${name('p1')},${name('p3')}`,
      `BRIDGEPEER=${name('p3')}`,
    ]);
    expect(peers('p3')).toEqual([`BRIDGEPEER=${name('p1')},${name('p2')}`, `BRIDGEPEER=${name('p2')}`]);
    expect([...peers('h1'), ...peers('h2')]).toEqual([]);
    // Two parties of a mixing bridge see each other as connected line (the second one first);
    // three do not update it; two again do. A holding bridge does not.
    const connected = events
      .filter((e) => e.type === 'ChannelConnectedLine')
      .map((e) => `${(e.channel as Frame).id}:${(e.channel as { connected: Frame }).connected.number}`);
    expect(connected).toEqual(['p2:p1', 'p1:p2', 'p3:p2', 'p2:p3']);
  });
});
