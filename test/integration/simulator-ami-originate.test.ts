// AMI Originate on the simulator, checked against manager.c's action_originate: its checks in
// order, the Variable headers (set last first, after the placeholder application and before the
// caller id), a priority given by label, sync and async answers.
import { describe, expect, it } from 'vitest';
import { originateVariables } from '../../src/simulator/ami/originate.ts';
import { simAmi } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const sim = () => simAmi(cleanup);

const WAIT = { Channel: 'Local/answer@capconduit-test', Context: 'capconduit-test', Exten: 'answer' };

describe('simulator AMI Originate', () => {
  it("refuses as manager.c does, in manager.c's order", async () => {
    const { ami } = await sim();
    const msg = async (fields: Record<string, string>) => (await ami.action('Originate', fields)).Message;
    expect(await msg({ Channel: 'Local/x@y', ChannelId: 'u'.repeat(150) })).toBe(
      'Uniqueid length exceeds maximum of 149\n',
    );
    expect(await msg({ ChannelId: 'u'.repeat(149) })).toBe('Channel not specified');
    expect(await msg({ ...WAIT, Priority: 'nolabel' })).toBe('Invalid priority');
    expect(await msg({ ...WAIT, Priority: '1', Timeout: 'soon' })).toBe('Invalid timeout');
    expect(await msg({ Channel: 'Local', Context: 'capconduit-test', Exten: 'answer', Priority: '1' })).toBe(
      'Invalid channel',
    );
    expect(await msg({ ...WAIT, Exten: 'nowhere', Priority: '1' })).toBe('Extension does not exist.');
    // A priority is checked against the dialplan even with an application.
    expect(await msg({ Channel: 'Local/answer@capconduit-test', Application: 'Wait', Priority: '1' })).toBe(
      'Extension does not exist.',
    );
    expect(await msg({ Channel: 'Local/answer@capconduit-test', Exten: 'answer' })).toBe(
      "Originate with 'Exten' requires 'Context' and 'Priority'",
    );
    // A channel of a technology the simulator cannot make fails (synchronously: at once).
    expect(await msg({ Channel: 'DAHDI/1', Application: 'Wait', Data: '1' })).toBe('Originate failed');
  });

  it('sets the Variable headers last first, between the placeholder application and the caller id', async () => {
    const { ami } = await sim();
    const r = await ami.action('Originate', {
      ...WAIT,
      Priority: '1',
      Async: 'yes',
      CallerID: '"Ann" <2125550000>',
      Variable: 'A=1,B=x=y',
    });
    expect(r.Response).toBe('Success');
    const done = await waitFor(() => ami.frames.find((f) => f.Event === 'OriginateResponse'));
    expect(done).toMatchObject({
      Response: 'Success',
      Reason: '4',
      CallerIDNum: '2125550000',
      CallerIDName: 'Ann',
    });
    const one = ami.of(done.Uniqueid!, 'Newexten', 'VarSet', 'NewCallerid', 'NewConnectedLine');
    expect(one.slice(0, 5).map((f) => [f.Event, f.Variable ?? f.Application ?? '', f.Value ?? ''])).toEqual([
      ['Newexten', 'AppDial2', ''],
      ['VarSet', 'B', 'x=y'],
      ['VarSet', 'A', '1'],
      ['NewCallerid', '', ''],
      ['NewConnectedLine', '', ''],
    ]);
  });

  it('reads repeated Variable headers as astman_get_variables does', () => {
    expect(originateVariables(['A=1,B=2', ' C=3', 'novalue', '=x', 'D=(a,b)', 'E="p,q"'])).toEqual([
      ['E', '"p,q"'],
      ['D', '(a,b)'],
      ['C', '3'],
      ['B', '2'],
      ['A', '1'],
    ]);
  });

  it('starts the dialplan at the priority given, by number or label; a sync originate answers once up', async () => {
    const { ami } = await sim();
    // from-carrier's `fallback` label is priority 5 of _X.: Hangup(${FALLBACK_CAUSE}).
    const r = await ami.action('Originate', {
      Channel: 'Local/answer@capconduit-test',
      Context: 'from-carrier',
      Exten: '123',
      Priority: 'fallback',
    });
    expect([r.Response, r.Message]).toEqual(['Success', 'Originate successfully queued']);
    const one = ami.frames.find((f) => f.Event === 'Newexten' && f.Context === 'from-carrier')!;
    expect([one.Exten, one.Priority, one.Application]).toEqual(['123', '5', 'Hangup']);
    // No OriginateResponse for a synchronous originate.
    expect(ami.frames.filter((f) => f.Event === 'OriginateResponse')).toEqual([]);
  });
});

describe('simulator AMI Redirect', () => {
  it('checks as manager.c does and moves one channel or two (ExtraChannel)', async () => {
    const { ami } = await sim();
    const r = await ami.action('Originate', { ...WAIT, Priority: '1', Async: 'yes' });
    const done = await waitFor(() =>
      ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === r.ActionID),
    );
    const one = done.Channel!;
    const two = one.replace(/;1$/, ';2');
    const msg = async (fields: Record<string, string>) => (await ami.action('Redirect', fields)).Message;
    expect(await msg({})).toBe('Channel not specified');
    expect(await msg({ Channel: one })).toBe('Context not specified');
    expect(await msg({ Channel: one, Context: 'capconduit-test' })).toBe('Exten not specified');
    expect(await msg({ Channel: one, Context: 'capconduit-test', Exten: 'answer' })).toBe(
      'Priority not specified',
    );
    const to = { Context: 'capconduit-test', Exten: 'answer' };
    expect(await msg({ Channel: one, ...to, Priority: 'nolabel' })).toBe('Priority is invalid');
    expect(
      await msg({ Channel: one, ...to, Priority: '2', ExtraChannel: two, ExtraContext: 'from-carrier' }),
    ).toBe('ExtraExten not specified');
    expect(
      await msg({
        Channel: one,
        ...to,
        Priority: '2',
        ExtraChannel: two,
        ExtraContext: 'x',
        ExtraExten: '1',
      }),
    ).toBe('ExtraPriority not specified');
    expect(await msg({ Channel: 'Local/none@x-0;1', ...to, Priority: '2' })).toBe(
      'Channel does not exist: Local/none@x-0;1',
    );
    expect(await msg({ Channel: one, ...to, Priority: '2', ExtraChannel: 'nope' })).toBe(
      'ExtraChannel does not exist: nope',
    );

    expect(await msg({ Channel: one, ...to, Priority: '2' })).toBe('Redirect successful');
    const moved = await waitFor(() =>
      ami.frames.find((f) => f.Event === 'Newexten' && f.Channel === one && f.Priority === '2'),
    );
    expect([moved.Context, moved.Exten, moved.Application]).toEqual(['capconduit-test', 'answer', 'Wait']);
    // Both halves at once: the extra one to its own place (from-carrier's `fallback` label, 5).
    expect(
      await msg({
        Channel: one,
        ...to,
        Priority: '1',
        ExtraChannel: two,
        ExtraContext: 'from-carrier',
        ExtraExten: '555',
        ExtraPriority: 'fallback',
      }),
    ).toBe('Dual Redirect successful');
    const extra = await waitFor(() =>
      ami.frames.find((f) => f.Event === 'Newexten' && f.Channel === two && f.Context === 'from-carrier'),
    );
    expect([extra.Exten, extra.Priority]).toEqual(['555', '5']);
  });
});

describe('simulator AMI Status', () => {
  it('lists Variables and AllVariables after Seconds, the ActionID last', async () => {
    const { ami } = await sim();
    const r = await ami.action('Originate', { ...WAIT, Priority: '1', Async: 'yes', Variable: 'A=1,B=2' });
    const done = await waitFor(() =>
      ami.frames.find((f) => f.Event === 'OriginateResponse' && f.ActionID === r.ActionID),
    );
    const list = await ami.list('Status', {
      Channel: done.Channel!,
      Variables: 'A,NOPE',
      AllVariables: 'yes',
    });
    const ev = list.find((f) => f[0]![1] === 'Status')!;
    const keys = ev.map(([k]) => k);
    expect(keys.slice(keys.indexOf('Seconds'))).toEqual([
      'Seconds',
      'Variable',
      'Variable',
      'Variable',
      'Variable',
      'ActionID',
    ]);
    // Asked for first (a missing one as C prints NULL), then every channel variable newest first.
    expect(ev.filter(([k]) => k === 'Variable').map(([, v]) => v)).toEqual([
      'A=1',
      'NOPE=(null)',
      'A=1',
      'B=2',
    ]);
  });
});
