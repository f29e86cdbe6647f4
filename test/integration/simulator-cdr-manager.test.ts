// cdr_manager on the simulator: each CDR the engine posts is an AMI `Cdr` event (cdr class) when
// the module is enabled, with cdr_manager.c's fields in its order and the [mappings] after them;
// without cdr_manager.conf (a stock Asterisk, and the recorded one) no Cdr event at all.
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { holdApp, startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

type Frame = Array<[string, string]>;

/** An answered inbound call hung up by the app, watched by a manager session reading `events`. */
async function call(o: SimulatorOptions, events: string) {
  const s = await startSim(cleanup, { ...o });
  const frames: Frame[] = [];
  let buf = '';
  const sock = connect(s.amiPort, '127.0.0.1');
  cleanup.push(() => sock.destroy());
  sock.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\r\n\r\n'); i >= 0; i = buf.indexOf('\r\n\r\n')) {
      frames.push(
        buf
          .slice(0, i)
          .split('\r\n')
          .filter((l) => l.includes(': '))
          .map((l) => [l.slice(0, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
      );
      buf = buf.slice(i + 4);
    }
  });
  sock.write(`Action: Login\r\nUsername: asterisk\r\nSecret: asterisk\r\nEvents: ${events}\r\n\r\n`);
  await waitFor(() => frames.some((f) => f.some(([, v]) => v === 'Authentication accepted')));
  const ws = await holdApp(s, 'capconduit', cleanup);
  const ari = (method: string, path: string) =>
    fetch(`${s.ariUrl}/ari/${path}?api_key=asterisk:asterisk`, { method }).then((r) => r.status);
  ws.on('message', (d) => {
    const e = JSON.parse(String(d)) as { type: string; channel: { id: string } };
    if (e.type === 'StasisStart') void ari('POST', `channels/${e.channel.id}/answer`);
    if (e.type === 'ChannelStateChange') void ari('DELETE', `channels/${e.channel.id}`);
  });
  const id = s.placeInboundCall({ did: '14155550100', callerNumber: '12125550123', callerName: 'Caller' });
  const event = (name: string) => frames.filter((f) => f[0]?.[1] === name);
  await waitFor(() => event('Hangup').length === 2);
  /** A Ping answered: everything the simulator had to send before it has arrived. */
  const settled = async () => {
    sock.write('Action: Ping\r\nActionID: settle\r\n\r\n');
    await waitFor(() => frames.some((f) => f.some(([k, v]) => k === 'ActionID' && v === 'settle')));
  };
  return { id, event, frames, settled };
}

describe('simulator cdr_manager', () => {
  it('sends each posted CDR as a Cdr event after the Hangup, fields in order, mappings after them', async () => {
    const { id, event, frames } = await call(
      {
        cdrManager: {
          enabled: true,
          mappings: [
            ['linkedid', 'LinkedID'],
            ['sequence', 'Sequence'],
            ['nosuchvar', 'Custom'],
          ],
        },
      },
      'on',
    );
    await waitFor(() => event('Cdr').length > 0);
    const cdr = event('Cdr').find((f) => f.some(([k, v]) => k === 'UniqueID' && v === id))!;
    expect(cdr.map(([k]) => k)).toEqual([
      'Event',
      'Privilege',
      'AccountCode',
      'Source',
      'Destination',
      'DestinationContext',
      'CallerID',
      'Channel',
      'DestinationChannel',
      'LastApplication',
      'LastData',
      'StartTime',
      'AnswerTime',
      'EndTime',
      'Duration',
      'BillableSeconds',
      'Disposition',
      'AMAFlags',
      'UniqueID',
      'UserField',
      'LinkedID',
      'Sequence',
      'Custom',
    ]);
    const f = Object.fromEntries(cdr);
    expect(f).toMatchObject({
      Privilege: 'cdr,all',
      Source: '12125550123',
      Destination: '14155550100',
      DestinationContext: 'from-carrier',
      CallerID: '"Caller" <12125550123>',
      LastApplication: 'Stasis',
      Disposition: 'ANSWERED',
      AMAFlags: 'DOCUMENTATION',
      Custom: '',
    });
    expect(f.StartTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(f.AnswerTime).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(f.LinkedID).toMatch(/^\d+\.\d+$/);
    // After the channel's own Hangup.
    const at = (pred: (x: Frame) => boolean) => frames.findIndex(pred);
    expect(at((x) => x === cdr)).toBeGreaterThan(
      at((x) => x[0]?.[1] === 'Hangup' && x.some(([k, v]) => k === 'Uniqueid' && v === id)),
    );
  });

  it('sends none to a session not reading the cdr class, and none at all without cdr_manager.conf', async () => {
    const off = await call({}, 'on');
    const notRead = await call({ cdrManager: { enabled: true } }, 'call');
    // Both calls are over; a Cdr is posted right after the Hangups, so before a Ping's answer.
    await off.settled();
    await notRead.settled();
    expect(off.event('Cdr')).toEqual([]);
    expect(notRead.event('Cdr')).toEqual([]);
  });
});
