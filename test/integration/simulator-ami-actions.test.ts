// The simulator's AMI action list against Asterisk 22's: ListCommands as manager.c prints it, an
// action Asterisk has but the simulator does not model, and an unknown one.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../../src/simulator/ami/actions.ts';
import { COMMANDS } from '../../src/simulator/ami/commands.ts';
import { type AmiSession, simAmi } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const sim = () => simAmi(cleanup);

describe('simulator AMI action list', () => {
  it('answers ListCommands with every action of the build, as manager.c prints them', async () => {
    const { ami } = await sim();
    await ami.action('ListCommands');
    const frame = ami.ordered.find((f) => f.some(([k, v]) => k === 'ActionID' && v === 't-2'))!;
    // An acknowledgement with no Message, then one line per action, in strcasecmp order.
    expect(frame.slice(0, 2)).toEqual([
      ['Response', 'Success'],
      ['ActionID', 't-2'],
    ]);
    const lines = frame.slice(2);
    const names = lines.map(([k]) => k);
    expect(names).toEqual([...names].sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)));
    expect(names).toHaveLength(92);
    // Lines as Asterisk 22.10.1 prints them (synopsis from the action's XML documentation; the
    // privilege list ends in `all`, an action open to every user is `<none>`).
    const line = (name: string) => lines.find(([k]) => k === name)?.[1];
    expect(line('Originate')).toBe('Originate a call. (Priv: originate,all)');
    expect(line('Ping')).toBe('Keepalive command. (Priv: <none>)');
    expect(line('Status')).toBe('List channel status. (Priv: system,call,reporting,all)');
    expect(line('QueueStatus')).toBe('Show queue status. (Priv: <none>)');
    expect(line('StopMixMonitor')).toBe(
      "Stop recording a call through MixMonitor, and free the recording's file handle. (Priv: system,call,all)",
    );
    expect(line('PJSIPShowEndpoint')).toBe(
      'Detail listing of an endpoint and its objects. (Priv: system,all)',
    );
    expect(line('PlayDTMF')).toBe('Play DTMF signal on a specific channel. (Priv: call,all)');
    // Every action the simulator serves is one Asterisk lists.
    const listed = new Set(names.map((n) => n.toLowerCase()));
    for (const served of Object.keys(ACTIONS)) expect(listed, served).toContain(served);
  });

  it('answers a listed action it does not model with an error, an unknown one as Asterisk does', async () => {
    const { ami } = await sim();
    const known = await ami.action('GetConfig', { Filename: 'pjsip.conf' });
    expect(known).toMatchObject({
      Response: 'Error',
      Message: 'GetConfig (core) is listed but not modelled by the simulator',
    });
    const unknown = await ami.action('NoSuchAction');
    expect(unknown.Message).toBe(
      'Invalid/unknown command: NoSuchAction. Use Action: ListCommands to show available commands.',
    );
    // Only the unknown one is a RequestBadFormat.
    await waitFor(() => ami.frames.some((f) => f.Event === 'RequestBadFormat'));
    expect(ami.frames.filter((f) => f.Event === 'RequestBadFormat').map((f) => f.RequestType)).toEqual([
      'Action: NoSuchAction',
    ]);
  });

  it('docs/simulator.md names exactly the listed actions that are not modelled', () => {
    const docs = readFileSync(new URL('../../docs/simulator.md', import.meta.url), 'utf8');
    const m = /Listed but not modelled: ([^.]+)\./.exec(docs);
    expect(m).not.toBeNull();
    const documented = m![1]!.split(/,\s*/).map((s) => s.replace(/`/g, '').trim());
    const served = new Set(Object.keys(ACTIONS));
    expect(documented).toEqual(COMMANDS.map((c) => c[0]).filter((a) => !served.has(a.toLowerCase())));
  });
});

/** A Local pair from AMI Originate whose halves both answer and wait; resolves with `;1`'s name. */
async function waitingCall(ami: AmiSession) {
  const r = await ami.action('Originate', {
    Channel: 'Local/answer@capconduit-test',
    Context: 'capconduit-test',
    Exten: 'answer',
    Priority: '1',
    Async: 'true',
  });
  const done = await waitFor(() =>
    ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === r.ActionID),
  );
  expect(done.Response).toBe('Success');
  return { name: done.Channel!, uniqueid: done.Uniqueid! };
}

describe('simulator AMI MixMonitor', () => {
  it('starts, answers with the id, sets the variables, stores the file where ARI keeps recordings', async () => {
    const { s, ami } = await sim();
    const call = await waitingCall(ami);
    expect(await ami.action('MixMonitor', {})).toMatchObject({ Message: 'No channel specified' });
    expect(await ami.action('MixMonitor', { Channel: 'Local/none-0001;1', File: 'x.wav' })).toMatchObject({
      Message: 'No such channel',
    });
    expect(await ami.action('MixMonitor', { Channel: call.name })).toMatchObject({
      Message: 'Could not start monitoring channel',
    });
    const file = '/var/spool/asterisk/recording/calls/m1.wav';
    const started = await ami.action('MixMonitor', { Channel: call.name, File: file, Options: 'ai(MID)' });
    const answer = ami.ordered.find((f) => f.some(([k, v]) => k === 'ActionID' && v === started.ActionID))!;
    expect(answer.map(([k]) => k)).toEqual(['Response', 'ActionID', 'MixMonitorID']);
    const id = answer[2]![1];
    expect(id).toMatch(/^0x[0-9a-f]+$/);
    await waitFor(() => ami.of(call.uniqueid, 'MixMonitorStart').length === 1);
    const after = ami.of(call.uniqueid).slice(-3);
    expect(after.map((f) => [f.Event, f.Variable, f.Value])).toEqual([
      ['VarSet', 'MIXMONITOR_FILENAME', file],
      ['VarSet', 'MID', id],
      ['MixMonitorStart', undefined, undefined],
    ]);
    // MixMonitorStart is a basic channel event: the snapshot and nothing else.
    const start = ami.ordered.find((f) => f[0]![1] === 'MixMonitorStart')!;
    expect(start.map(([k]) => k)).toEqual([
      'Event',
      'Privilege',
      'Channel',
      'ChannelState',
      'ChannelStateDesc',
      'CallerIDNum',
      'CallerIDName',
      'ConnectedLineNum',
      'ConnectedLineName',
      'Language',
      'AccountCode',
      'Context',
      'Exten',
      'Priority',
      'Uniqueid',
      'Linkedid',
    ]);
    expect(start[1]).toEqual(['Privilege', 'call,all']);

    const mute = await ami.action('MixMonitorMute', { Channel: call.name, Direction: 'both', State: '1' });
    expect(mute.Response).toBe('Success');
    const muted = await waitFor(() => ami.frames.find((f) => f.Event === 'MixMonitorMute'));
    expect([muted.Direction, muted.State]).toEqual(['both', '1']);
    expect(
      await ami.action('MixMonitorMute', { Channel: call.name, Direction: 'up', State: '1' }),
    ).toMatchObject({ Message: 'Invalid direction specified. Must be read, write or both' });

    expect(await ami.action('StopMixMonitor', { Channel: call.name, MixMonitorID: '0x1' })).toMatchObject({
      Message: 'Could not stop monitoring channel',
    });
    expect((await ami.action('StopMixMonitor', { Channel: call.name, MixMonitorID: id })).Response).toBe(
      'Success',
    );
    await waitFor(() => ami.of(call.uniqueid, 'MixMonitorStop').length === 1);
    expect((await ami.action('StopMixMonitor', { Channel: call.name })).Message).toBe(
      'Could not stop monitoring channel',
    );
    // The file is an ARI stored recording: its path under the recording directory, no extension.
    const res = await fetch(`${s.ariUrl}/ari/recordings/stored`, {
      headers: { authorization: `Basic ${Buffer.from('asterisk:asterisk').toString('base64')}` },
    });
    expect(await res.json()).toEqual([{ name: 'calls/m1', format: 'wav' }]);
    expect(s.recordedFile(file)?.format).toBe('wav');
  });

  it('ends with the channel: the file kept (in the monitor directory), no MixMonitorStop', async () => {
    const { s, ami } = await sim();
    const call = await waitingCall(ami);
    const r = await ami.action('MixMonitor', { Channel: call.name, File: 'out/rec-1' });
    expect(Object.keys(r)).toEqual(['Response', 'ActionID']);
    await waitFor(() => ami.of(call.uniqueid, 'MixMonitorStart').length === 1);
    expect(ami.of(call.uniqueid, 'VarSet').at(-1)?.Value).toBe('/var/spool/asterisk/monitor/out/rec-1');
    await ami.action('Hangup', { Channel: call.name });
    await waitFor(() => ami.of(call.uniqueid, 'Hangup').length === 1);
    expect(ami.of(call.uniqueid, 'MixMonitorStop')).toEqual([]);
    // No extension: mixmonitor writes `raw`.
    expect(s.recordedFile('/var/spool/asterisk/monitor/out/rec-1')?.format).toBe('raw');
  });
});
