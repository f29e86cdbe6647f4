// AMI session filters as manager.c adds and applies them: legacy filters (a regex over the whole
// event text, `!` for an exclude) and Asterisk 22's advanced ones (MatchCriteria: action, name,
// header, method), with include and exclude together.
import { describe, expect, it } from 'vitest';
import { amiSession, simAmi } from '../helpers/sim-ami.ts';
import { cleanupEach } from '../helpers/cleanup.ts';
import { waitFor } from '../helpers/wait.ts';

const cleanup = cleanupEach();

const FORMAT = 'Filter was formatted incorrectly.  Check the syntax of the filter given.';

describe('simulator AMI Filter', () => {
  it('refuses what manager_add_filter refuses', async () => {
    const { ami } = await simAmi(cleanup);
    const add = async (MatchCriteria: string, Filter: string) =>
      (await ami.action('Filter', { Operation: 'Add', MatchCriteria, Filter })).Message;
    expect(await add('', '')).toBe(FORMAT);
    expect(await add('method(bogus)', 'x')).toBe(FORMAT);
    expect(await add('action(maybe)', 'x')).toBe(FORMAT);
    expect(await add('colour(red)', 'x')).toBe(FORMAT);
    expect(await add('name(Newchannel),method(regex)', '')).toBe(FORMAT); // a method needs a pattern
    expect(await add('name(Newchannel),method(none)', 'x')).toBe(FORMAT); // none takes none
    expect(await add('action(include)', '')).toBe(FORMAT); // no name, header or pattern
    // An advanced filter's method defaults to none, which takes no pattern.
    expect(await add('header(Channel)', 'x')).toBe(FORMAT);
    expect(await add('header(Channel),method(regex)', '(')).toBe(
      'Filter did not compile.  Check the syntax of the filter given.',
    );
    expect(await add('name(Newchannel)', '')).toBe('Success');
    expect((await ami.action('Filter', { Operation: 'Remove', Filter: 'x' })).Message).toBe(
      'Unknown operation',
    );
  });

  it('limits each session to what its filters let through', async () => {
    const { s, ami: all } = await simAmi(cleanup);
    const session = async (filters: Array<[string, string]>) => {
      const x = await amiSession(s.amiPort, cleanup);
      for (const [MatchCriteria, Filter] of filters)
        expect((await x.action('Filter', { Operation: 'Add', MatchCriteria, Filter })).Response).toBe(
          'Success',
        );
      return x;
    };
    const newchannels = await session([['action(include),name(Newchannel)', '']]);
    const ones = await session([['header(Channel),method(ends_with)', ';1']]);
    const hangups = await session([
      ['', 'Event: (Hangup|VarSet)'],
      ['name(VarSet)', '!'],
    ]);
    const noVarSet = await session([['action(exclude),name(VarSet),method(none)', '']]);
    const mark = all.frames.length;
    const sessions = [newchannels, ones, hangups, noVarSet];
    const marks = sessions.map((x) => x.frames.length);
    s.placeInboundCall({ did: '14155550100', callerNumber: '12125550123', hangupAfterMs: 50 });
    await waitFor(() => all.frames.slice(mark).filter((f) => f.Event === 'Hangup').length === 2);
    // Events reach each session before the answer to an action it sends afterwards.
    for (const x of sessions) await x.action('Ping');
    const seen = (i: number) =>
      sessions[i]!.frames.slice(marks[i])
        .filter((f) => f.Event)
        .map((f) => f.Event);
    const everything = all.frames.slice(mark).filter((f) => f.Event);
    expect(seen(0)).toEqual(['Newchannel', 'Newchannel']);
    expect(seen(1)).toEqual(everything.filter((f) => f.Channel?.endsWith(';1')).map((f) => f.Event));
    // The legacy regex is unanchored (HangupRequest matches too); the advanced exclude takes VarSet out.
    expect(seen(2)).toEqual(everything.filter((f) => f.Event!.startsWith('Hangup')).map((f) => f.Event));
    expect(seen(2)).toContain('Hangup');
    expect(seen(3)).toEqual(everything.filter((f) => f.Event !== 'VarSet').map((f) => f.Event));
    expect(everything.some((f) => f.Event === 'VarSet')).toBe(true);
  });
});
