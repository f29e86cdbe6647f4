// app_queue's QueueStatus/QueueSummary and pbx.c's ExtensionState/ExtensionStateList on the
// simulator: Asterisk's keys in Asterisk's order, states from the simulator's device states.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueueConfig } from '../../src/simulator/ami/queues.ts';
import { extensionStateText, hintState } from '../../src/simulator/ami/extension-state.ts';
import { amiSession } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { startSim } from '../helpers/sim-ari.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const DIALPLAN = `
[internal]
exten => 200,hint,PJSIP/ringer
exten => 201,hint,PJSIP/talker
exten => 202,hint,PJSIP/gone
exten => 203,hint,PJSIP/ringer&PJSIP/talker,CustomPresence:203
exten => 204,hint,SIP/old
exten => _3XX,hint,PJSIP/talker
exten => 100,1,NoOp()

[calls]
exten => _sip-.,1,Dial(PJSIP/\${EXTEN:4},30)
 same => n,Hangup()
`;

async function sim(queues?: QueueConfig[]) {
  const dir = mkdtempSync(join(tmpdir(), 'ami-status-'));
  writeFileSync(join(dir, 'extensions.conf'), DIALPLAN);
  const s = await startSim(cleanup, {
    dialplanPath: join(dir, 'extensions.conf'),
    endpoints: {
      ringer: { answerAfterMs: 600_000 },
      talker: { answerAfterMs: 5 },
      gone: { result: 'unavailable' },
    },
    ...(queues ? { queues } : {}),
  });
  return { s, ami: await amiSession(s.amiPort, cleanup) };
}

/** A call from the dialplan to a PJSIP endpoint (Local/sip-<endpoint>@calls, whose `;2` dials it). */
async function dial(ami: Awaited<ReturnType<typeof sim>>['ami'], endpoint: string, state: string) {
  await ami.action('Originate', {
    Channel: `Local/sip-${endpoint}@calls`,
    Application: 'Wait',
    Data: '3600',
    Async: 'true',
  });
  await waitFor(() =>
    ami.frames.find(
      (f) =>
        f.Event === 'Newstate' && f.Channel?.startsWith(`PJSIP/${endpoint}-`) && f.ChannelStateDesc === state,
    ),
  );
}

describe('simulator AMI ExtensionState', () => {
  it("answers with the hint and pbx.c's state of its devices", async () => {
    const { ami } = await sim();
    const state = async (exten: string, context = 'internal') => {
      const r = await ami.action('ExtensionState', { Exten: exten, Context: context });
      return [r.Hint, r.Status, r.StatusText];
    };
    expect(await ami.action('ExtensionState', {})).toMatchObject({ Message: 'Extension not specified' });
    expect(await state('200')).toEqual(['PJSIP/ringer', '0', 'Idle']);
    expect(await state('202')).toEqual(['PJSIP/gone', '4', 'Unavailable']);
    expect(await state('204')).toEqual(['SIP/old', '4', 'Unavailable']); // no such technology: invalid
    expect(await state('100')).toEqual(['', '-1', 'Unknown']); // no hint
    // No Context: `default`, which has none.
    const r = await ami.action('ExtensionState', { Exten: '200' });
    expect([r.Context, r.Status]).toEqual(['default', '-1']);
    // The answer's keys in manager.c's order.
    const frame = ami.ordered.find((f) => f.some(([k, v]) => k === 'ActionID' && v === r.ActionID))!;
    expect(frame.map(([k]) => k)).toEqual([
      'Response',
      'ActionID',
      'Message',
      'Exten',
      'Context',
      'Hint',
      'Status',
      'StatusText',
    ]);

    await dial(ami, 'ringer', 'Ringing');
    expect(await state('200')).toEqual(['PJSIP/ringer', '8', 'Ringing']);
    await dial(ami, 'talker', 'Up');
    expect(await state('201')).toEqual(['PJSIP/talker', '1', 'InUse']);
    // Two devices, one ringing and one in use; the presence part after the last comma is no device.
    expect(await state('203')).toEqual([
      'PJSIP/ringer&PJSIP/talker,CustomPresence:203',
      '9',
      'InUse&Ringing',
    ]);
    // A pattern hint answers for the extension it matches.
    expect(await state('305')).toEqual(['PJSIP/talker', '1', 'InUse']);

    // ExtensionStateList: the literal hints only, each as an ExtensionStatus.
    const list = await ami.list('ExtensionStateList');
    const items = list.filter((f) => f[0]![1] === 'ExtensionStatus');
    expect(items.map((f) => Object.fromEntries(f).Exten).sort()).toEqual(['200', '201', '202', '203', '204']);
    expect(items[0]!.map(([k]) => k)).toEqual([
      'Event',
      'ActionID',
      'Exten',
      'Context',
      'Hint',
      'Status',
      'StatusText',
    ]);
    expect(Object.fromEntries(list.at(-1)!)).toMatchObject({
      Event: 'ExtensionStateListComplete',
      EventList: 'Complete',
      ListItems: '5',
    });
  });

  it('aggregates device states as ast_devstate_aggregate_add does', () => {
    const states: Record<string, string> = {
      'D/idle': 'NOT_INUSE',
      'D/busy': 'BUSY',
      'D/ring': 'RINGING',
      'D/hold': 'ONHOLD',
      'D/unknown': 'UNKNOWN',
      'D/gone': 'UNAVAILABLE',
    };
    const text = (hint: string) => extensionStateText(hintState(hint, (d) => states[d] ?? 'INVALID'));
    expect(text('D/idle&D/gone')).toBe('Idle');
    expect(text('D/gone&D/nothing')).toBe('Unavailable');
    expect(text('D/busy&D/idle')).toBe('Busy');
    expect(text('D/busy&D/ring')).toBe('InUse&Ringing'); // busy counts as in use for ringing
    expect(text('D/hold&D/idle')).toBe('Hold'); // ONHOLD outranks NOT_INUSE
    expect(text('D/idle&D/hold&D/ring')).toBe('InUse&Ringing'); // held counts as in use
    expect(text('D/ring&D/idle')).toBe('Ringing');
    expect(text('D/unknown')).toBe('Idle');
  });
});

describe('simulator AMI QueueStatus and QueueSummary', () => {
  it('answers as an Asterisk with no queues', async () => {
    const { ami } = await sim();
    const status = await ami.list('QueueStatus');
    expect(status).toEqual([
      [
        ['Response', 'Success'],
        ['ActionID', 't-2'],
        ['EventList', 'start'],
        ['Message', 'Queue status will follow'],
      ],
      [
        ['Event', 'QueueStatusComplete'],
        ['ActionID', 't-2'],
        ['EventList', 'Complete'],
        ['ListItems', '0'],
      ],
    ]);
    const summary = await ami.list('QueueSummary', { Queue: 'sales' });
    expect(summary.map((f) => f[0]![1])).toEqual(['Success', 'QueueSummaryComplete']);
    expect(summary[0]!.at(-1)).toEqual(['Message', 'Queue summary will follow']);
  });

  it('lists configured queues and members, member status from the device state', async () => {
    const { ami } = await sim([
      {
        name: 'support',
        strategy: 'linear',
        members: [
          { interface: 'PJSIP/talker', name: 'Tal', penalty: 2 },
          { interface: 'PJSIP/gone' },
          { interface: 'PJSIP/ringer', paused: true },
        ],
      },
      { name: 'sales', members: [{ interface: 'PJSIP/ringer' }] },
    ]);
    await dial(ami, 'talker', 'Up');
    const status = await ami.list('QueueStatus', { Queue: 'support' });
    const events = status.slice(1, -1);
    expect(events.map((f) => f[0]![1])).toEqual(['QueueParams', 'QueueMember', 'QueueMember', 'QueueMember']);
    // app_queue writes the ActionID last in its items.
    expect(events[0]!.map(([k]) => k)).toEqual([
      'Event',
      'Queue',
      'Max',
      'Strategy',
      'Calls',
      'Holdtime',
      'TalkTime',
      'Completed',
      'Abandoned',
      'ServiceLevel',
      'ServicelevelPerf',
      'ServicelevelPerf2',
      'Weight',
      'ActionID',
    ]);
    expect(Object.fromEntries(events[0]!)).toMatchObject({ Strategy: 'linear', ServicelevelPerf: '0.0' });
    const member = Object.fromEntries(events[1]!);
    expect(events[1]!.map(([k]) => k)).toEqual([
      'Event',
      'Queue',
      'Name',
      'Location',
      'StateInterface',
      'Membership',
      'Penalty',
      'CallsTaken',
      'LastCall',
      'LastPause',
      'LoginTime',
      'InCall',
      'Status',
      'Paused',
      'PausedReason',
      'Wrapuptime',
      'ActionID',
    ]);
    expect(member).toMatchObject({
      Name: 'Tal',
      Location: 'PJSIP/talker',
      Membership: 'static',
      Penalty: '2',
      Status: '2',
    });
    // Linear: the members in configuration order; INUSE 2, UNAVAILABLE 5, NOT_INUSE 1.
    expect(
      events.slice(1).map((f) => [Object.fromEntries(f).Location, Object.fromEntries(f).Status]),
    ).toEqual([
      ['PJSIP/talker', '2'],
      ['PJSIP/gone', '5'],
      ['PJSIP/ringer', '1'],
    ]);
    expect(Object.fromEntries(status.at(-1)!)).toMatchObject({
      Event: 'QueueStatusComplete',
      ListItems: '4',
    });
    // A member filter keeps the queue's params.
    const one = await ami.list('QueueStatus', { Queue: 'support', Member: 'Tal' });
    expect(one.slice(1, -1).map((f) => Object.fromEntries(f).Event)).toEqual(['QueueParams', 'QueueMember']);

    const summary = await ami.list('QueueSummary');
    const rows = summary.slice(1, -1).map((f) => Object.fromEntries(f));
    expect(rows.map((r) => [r.Queue, r.LoggedIn, r.Available, r.Callers])).toEqual(
      // Both queues (in the order of app_queue's hash container): support has the gone member
      // logged out, talker busy and ringer paused: none available.
      expect.arrayContaining([
        ['support', '2', '0', '0'],
        ['sales', '1', '1', '0'],
      ]),
    );
    expect(summary[1]!.map(([k]) => k)).toEqual([
      'Event',
      'Queue',
      'LoggedIn',
      'Available',
      'Callers',
      'HoldTime',
      'TalkTime',
      'LongestHoldTime',
      'ActionID',
    ]);
  });
});
