// AMI on the wire, with a bare socket: what any AMI client (not just ours) sees from the simulator.
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { waitFor } from '../helpers/wait.ts';

let sim: Simulator | null = null;
let sock: Socket | null = null;
afterEach(async () => {
  sock?.destroy();
  await sim?.stop();
});

describe('simulator AMI over a raw socket', () => {
  it('greets, refuses actions before login, echoes ActionIDs and frames EventLists', async () => {
    sim = await startSimulator({ ariPort: 0, amiPort: 0, badLoginDelayMs: 50 });
    let buf = '';
    sock = connect(sim.amiPort, '127.0.0.1');
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
    });
    const send = (lines: string[]) => sock!.write(`${lines.join('\r\n')}\r\n\r\n`);
    await waitFor(() => buf.includes('\r\n'));
    expect(buf.split('\r\n')[0]).toBe('Asterisk Call Manager/11.0.0');

    send(['actionid: a1', 'ACTION: Ping']); // header names are case-insensitive, Action need not be first
    await waitFor(() => buf.includes('Permission denied'));
    expect(buf).toContain('Response: Error\r\nActionID: a1\r\nMessage: Permission denied\r\n\r\n');

    send(['Action: Login', 'ActionID: a2', 'Username: asterisk', 'Secret: asterisk']);
    await waitFor(() => buf.includes('Authentication accepted'));
    expect(buf).toContain('Response: Success\r\nActionID: a2\r\nMessage: Authentication accepted');

    send(['Action: NoSuchThing', 'ActionID: a3']);
    await waitFor(() => buf.includes('ActionID: a3'));
    expect(buf).toContain('Response: Error\r\nActionID: a3\r\nMessage: Invalid/unknown command');

    send(['Action: CoreShowChannels', 'ActionID: a4']);
    await waitFor(() => buf.includes('CoreShowChannelsComplete'));
    const tail = buf.slice(buf.indexOf('ActionID: a4') - 30);
    expect(tail).toMatch(/Response: Success\r\nActionID: a4\r\nEventList: start\r\n/);
    expect(tail).toMatch(
      /Event: CoreShowChannelsComplete\r\nActionID: a4\r\nEventList: Complete\r\nListItems: 0\r\n/,
    );
  });

  it('answers a wrong secret after a delay and then closes the connection', async () => {
    sim = await startSimulator({ ariPort: 0, amiPort: 0, badLoginDelayMs: 100 });
    let buf = '';
    let closed = false;
    sock = connect(sim.amiPort, '127.0.0.1');
    sock.on('data', (d: Buffer) => {
      buf += d.toString();
    });
    sock.on('close', () => {
      closed = true;
    });
    await waitFor(() => buf.includes('\r\n'));
    sock.write('Action: Login\r\nActionID: x\r\nUsername: asterisk\r\nSecret: wrong\r\n\r\n');
    await waitFor(() => closed);
    expect(buf).toContain('Response: Error\r\nActionID: x\r\nMessage: Authentication failed');
  });

  it("sends a call's channel events, filtered per session as Asterisk filters them", async () => {
    sim = await startSimulator({ ariPort: 0, amiPort: 0 });
    // One session per filter set; each collects the event names it is sent.
    const session = async (filters: string[], eventsOff = false) => {
      const c = connect(sim!.amiPort, '127.0.0.1');
      const o = { buf: '', sock: c, names: () => [...o.buf.matchAll(/^Event: (\w+)\r$/gm)].map((m) => m[1]) };
      c.on('data', (d: Buffer) => {
        o.buf += d.toString();
      });
      const send = (lines: string[]) => c.write(`${lines.join('\r\n')}\r\n\r\n`);
      send(['Action: Login', 'Username: asterisk', 'Secret: asterisk']);
      await waitFor(() => o.buf.includes('Authentication accepted'));
      for (const f of filters) send(['Action: Filter', 'Operation: Add', `Filter: ${f}`]);
      if (eventsOff) send(['Action: Events', 'EventMask: off']);
      await waitFor(
        () =>
          (o.buf.match(/Message: Success|Events: Off/g) ?? []).length ===
          filters.length + (eventsOff ? 1 : 0),
      );
      return o;
    };
    const all = await session([]);
    const hangups = await session(['^Event: (Hangup)[[:space:]]']); // not HangupRequest
    const notState = await session(['!^Event: Newstate[[:space:]]']);
    const both = await session(['^Event: (Newchannel|Hangup)[[:space:]]', '!Channel: Local/.*;2']);
    const off = await session([], true);
    const sessions = [all, hangups, notState, both, off];
    // Asterisk answers a login, writes FullyBooted to the session (before any filter can be set),
    // and reports the login to every session reading security events, itself included.
    for (const x of sessions)
      expect(x.buf).toMatch(
        /Message: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nPrivilege: system,all\r\nUptime: \d+\r\nLastReload: \d+\r\nStatus: Fully Booted\r\n\r\n/,
      );
    await waitFor(() => all.names().filter((n) => n === 'SuccessfulAuth').length === sessions.length);
    for (const x of sessions) x.buf = '';
    // No Stasis app: the dialplan sends the call to congestion, so it is made and hung up at once.
    sim.placeInboundCall({ did: '+14155550100', callerNumber: '+12125550123', hangupAfterMs: 100 });
    await waitFor(() => all.names().filter((n) => n === 'Hangup').length === 2);
    await waitFor(() => hangups.names().length === 2);
    const seen = all.names();
    expect(seen).toEqual(expect.arrayContaining(['Newchannel', 'HangupRequest', 'Hangup']));
    expect(hangups.names()).toEqual(['Hangup', 'Hangup']);
    expect(notState.names()).toEqual(seen.filter((n) => n !== 'Newstate'));
    expect(both.names().sort()).toEqual(['Hangup', 'Newchannel']);
    expect(all.buf).toMatch(/Event: Hangup\r\nPrivilege: call,all\r\nChannel: Local\/\S+;1\r\n/);
    // Events off: none arrive, but answers to actions (list items included) still do.
    expect(off.names()).toEqual([]);
    off.sock.write('Action: CoreShowChannels\r\nActionID: l1\r\n\r\n');
    await waitFor(() => off.buf.includes('CoreShowChannelsComplete'));
    // A filter that is not a valid regex is refused.
    all.sock.write('Action: Filter\r\nActionID: f1\r\nOperation: Add\r\nFilter: (unclosed\r\n\r\n');
    await waitFor(() => all.buf.includes('ActionID: f1'));
    expect(all.buf).toContain('Response: Error\r\nActionID: f1\r\nMessage: Filter did not compile');
    // A legacy filter (no MatchCriteria) needs a pattern: an empty one, or `!` alone, is refused
    // and no filter is added (manager_add_filter's FILTER_FORMAT_ERROR).
    for (const [id, pattern] of [
      ['f2', ''],
      ['f3', '!'],
    ]) {
      all.sock.write(`Action: Filter\r\nActionID: ${id}\r\nOperation: Add\r\nFilter: ${pattern}\r\n\r\n`);
      await waitFor(() => all.buf.includes(`ActionID: ${id}`));
      expect(all.buf).toContain(
        `Response: Error\r\nActionID: ${id}\r\nMessage: Filter was formatted incorrectly.  Check the syntax of the filter given.`,
      );
    }
    for (const x of [all, hangups, notState, both, off]) x.sock.destroy();
  });

  it('sends each session only the event classes it asked for, and reports logins and refusals as security events', async () => {
    sim = await startSimulator({ ariPort: 0, amiPort: 0, badLoginDelayMs: 20 });
    const open = async (login: string[] | null) => {
      const c = connect(sim!.amiPort, '127.0.0.1');
      const o = {
        buf: '',
        sock: c,
        send: (lines: string[]) => c.write(`${lines.join('\r\n')}\r\n\r\n`),
        names: () => [...o.buf.matchAll(/^Event: (\w+)\r$/gm)].map((m) => m[1]),
        /** The fields of the n-th event named `name`, in order. */
        event: (name: string, n = 0) =>
          o.buf
            .split('\r\n\r\n')
            .filter((p) => p.startsWith(`Event: ${name}\r\n`))
            [n]?.split('\r\n')
            .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]),
      };
      c.on('data', (d: Buffer) => {
        o.buf += d.toString();
      });
      await waitFor(() => o.buf.includes('\r\n'));
      if (login) {
        o.send(['Action: Login', 'Username: asterisk', 'Secret: asterisk', ...login]);
        await waitFor(() => o.buf.includes('Authentication accepted'));
      }
      return o;
    };
    const security = await open(['Events: security']);
    const calls = await open(['Events: call,dialplan']);
    const none = await open(['Events: off']);
    // `Events` at login picks the classes: only a system reader gets FullyBooted.
    expect(security.names()).toEqual(['SuccessfulAuth', 'SuccessfulAuth', 'SuccessfulAuth']);
    expect(calls.names()).toEqual([]);
    expect(none.names()).toEqual([]);
    expect(security.event('SuccessfulAuth')?.map(([k]) => k)).toEqual([
      'Event',
      'Privilege',
      'EventTV',
      'Severity',
      'Service',
      'EventVersion',
      'AccountID',
      'SessionID',
      'LocalAddress',
      'RemoteAddress',
      'UsingPassword',
      'SessionTV',
    ]);
    expect(Object.fromEntries(security.event('SuccessfulAuth')!)).toMatchObject({
      Privilege: 'security,all',
      Severity: 'Informational',
      Service: 'AMI',
      AccountID: 'asterisk',
      LocalAddress: `IPV4/TCP/127.0.0.1/${sim.amiPort}`,
      RemoteAddress: `IPV4/TCP/127.0.0.1/${security.sock.localPort}`,
    });
    security.buf = '';

    // Refusals, each reported to the security reader with the session's details.
    const stranger = await open(null);
    stranger.send(['Action: Ping', 'ActionID: p1']);
    await waitFor(() => stranger.buf.includes('Permission denied'));
    stranger.send(['ActionID: nothing']);
    await waitFor(() => stranger.buf.includes('Missing action in request'));
    stranger.send(['Action: Login', 'Username: nobody', 'Secret: x']);
    await waitFor(() => stranger.buf.includes('Authentication failed'));
    const wrong = await open(null);
    wrong.send(['Action: Login', 'Username: asterisk', 'Secret: wrong']);
    await waitFor(() => wrong.buf.includes('Authentication failed'));
    await waitFor(() => security.names().length === 4);
    expect(security.names()).toEqual([
      'RequestNotAllowed',
      'RequestBadFormat',
      'InvalidAccountID',
      'InvalidPassword',
    ]);
    expect(Object.fromEntries(security.event('RequestNotAllowed')!)).toMatchObject({
      AccountID: '',
      RequestType: 'Action: Ping',
      SessionTV: '1970-01-01T00:00:00.000+0000',
    });
    expect(security.event('RequestBadFormat')?.slice(-3)).toEqual([
      ['RequestType', 'Action: NONE'],
      ['SessionTV', '1970-01-01T00:00:00.000+0000'],
      ['AccountID', ''],
    ]);
    expect(Object.fromEntries(security.event('InvalidAccountID')!)).toMatchObject({ AccountID: 'nobody' });
    expect(Object.fromEntries(security.event('InvalidPassword')!)).toMatchObject({
      EventVersion: '2',
      AccountID: 'asterisk',
    });

    // MD5 challenge login: a wrong key is ChallengeResponseFailed, the right one logs in.
    const md5 = await open(null);
    md5.send(['Action: Challenge', 'ActionID: c1', 'AuthType: MD5']);
    await waitFor(() => /Challenge: (\d+)/.test(md5.buf));
    const challenge = /Challenge: (\d+)/.exec(md5.buf)![1]!;
    const key = createHash('md5').update(`${challenge}asterisk`).digest('hex');
    md5.send(['Action: Login', 'AuthType: MD5', 'Username: asterisk', `Key: ${key}`, 'Events: off']);
    await waitFor(() => md5.buf.includes('Authentication accepted'));
    const badMd5 = await open(null);
    badMd5.send(['Action: Challenge', 'AuthType: MD5']);
    await waitFor(() => badMd5.buf.includes('Challenge:'));
    badMd5.send(['Action: Login', 'AuthType: MD5', 'Username: asterisk', 'Key: 00']);
    await waitFor(() => security.names().includes('ChallengeResponseFailed'));
    expect(Object.fromEntries(security.event('ChallengeResponseFailed')!)).toMatchObject({ Response: '00' });

    // An unknown action after login: the error, then RequestBadFormat naming it and the user.
    calls.send(['Action: NoSuchAction', 'ActionID: u1']);
    await waitFor(() => security.names().filter((n) => n === 'RequestBadFormat').length === 2);
    expect(Object.fromEntries(security.event('RequestBadFormat', 1)!)).toMatchObject({
      RequestType: 'Action: NoSuchAction',
      AccountID: 'asterisk',
    });

    // A call: call and dialplan classes only to the session that asked for them.
    sim.placeInboundCall({ did: '+14155550100', callerNumber: '+12125550123', hangupAfterMs: 50 });
    await waitFor(() => calls.names().filter((n) => n === 'Hangup').length === 2);
    expect(none.names()).toEqual([]);
    expect(calls.names()).toEqual(expect.arrayContaining(['LocalBridge', 'DeviceStateChange']));
    expect(security.names().filter((n) => !/Auth|Request|Invalid|Challenge/.test(n!))).toEqual([]);
    // Events: an empty mask is refused, a class list turns events on, `off` turns them off.
    none.send(['Action: Events', 'ActionID: e1', 'EventMask: ']);
    none.send(['Action: Events', 'ActionID: e2', 'EventMask: system,call']);
    none.send(['Action: Events', 'ActionID: e3', 'EventMask: nonsense']);
    await waitFor(() => none.buf.includes('ActionID: e3'));
    expect(none.buf).toContain('Response: Error\r\nActionID: e1\r\nMessage: Invalid event mask\r\n');
    expect(none.buf).toContain('Response: Success\r\nActionID: e2\r\nEvents: On\r\n');
    expect(none.buf).toContain('Response: Success\r\nActionID: e3\r\nEvents: Off\r\n');
    for (const x of [security, calls, none, stranger, wrong, md5, badMd5]) x.sock.destroy();
  });

  it('a denied address is FailedACL; a second login of a single-login user SessionLimit; authlimit and authtimeout close sessions that never logged in', async () => {
    // Two managers: one whose user's ACL only lets 127.0.0.1 in, one whose user allows one login
    // at a time, with an authlimit of 3 and an authtimeout of 1 s.
    const aclSim = await startSimulator({
      ariPort: 0,
      amiPort: 0,
      badLoginDelayMs: 20,
      ami: {
        acl: [
          { sense: 'deny', net: '0.0.0.0/0.0.0.0' },
          { sense: 'permit', net: '127.0.0.1/32' },
        ],
      },
    });
    sim = await startSimulator({
      ariPort: 0,
      amiPort: 0,
      badLoginDelayMs: 20,
      ami: { allowMultipleLogin: false, authLimit: 3, authTimeoutMs: 1000 },
    });
    const frames = (buf: string) => buf.split('\r\n\r\n').filter(Boolean);
    const open = async (localAddress = '127.0.0.1', port = sim!.amiPort) => {
      const c = connect({ port, host: '127.0.0.1', localAddress });
      const o = { buf: '', closed: false, sock: c };
      c.on('data', (d: Buffer) => {
        o.buf += d.toString();
      });
      c.on('close', () => {
        o.closed = true;
      });
      c.on('error', () => {});
      return o;
    };
    const login = (o: { sock: Socket }, events = 'security') =>
      o.sock.write(`Action: Login\r\nUsername: asterisk\r\nSecret: asterisk\r\nEvents: ${events}\r\n\r\n`);
    const aclWatcher = await open('127.0.0.1', aclSim.amiPort);
    login(aclWatcher);
    await waitFor(() => aclWatcher.buf.includes('Authentication accepted'));
    aclWatcher.buf = '';

    // The user's ACL denies 127.0.0.2: FailedACL, then the usual failed login.
    const far = await open('127.0.0.2', aclSim.amiPort);
    await waitFor(() => far.buf.includes('\r\n'));
    login(far);
    await waitFor(() => far.closed);
    expect(far.buf).toContain('Message: Authentication failed');
    await waitFor(() => aclWatcher.buf.includes('Event: FailedACL'));
    const acl = frames(aclWatcher.buf)
      .find((p) => p.startsWith('Event: FailedACL'))!
      .split('\r\n')
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(acl).toEqual([
      'Event',
      'Privilege',
      'EventTV',
      'Severity',
      'Service',
      'EventVersion',
      'AccountID',
      'SessionID',
      'LocalAddress',
      'RemoteAddress',
      'SessionTV',
    ]);
    expect(aclWatcher.buf).toMatch(/AccountID: asterisk\r\n.*RemoteAddress: IPV4\/TCP\/127\.0\.0\.2\//s);
    aclWatcher.sock.destroy();
    await aclSim.stop();

    const watcher = await open();
    login(watcher);
    await waitFor(() => watcher.buf.includes('Authentication accepted'));
    watcher.buf = '';

    // The user is logged in already and allows one login: SessionLimit, then the refusal.
    const second = await open();
    await waitFor(() => second.buf.includes('\r\n'));
    login(second);
    await waitFor(() => second.closed);
    expect(second.buf).toContain('Response: Error\r\nMessage: Login Already In Use\r\n');
    await waitFor(() => watcher.buf.includes('Event: SessionLimit'));
    const limit = frames(watcher.buf).find((p) => p.startsWith('Event: SessionLimit'))!;
    expect(limit).toMatch(/^Event: SessionLimit\r\nPrivilege: security,all\r\n/);
    expect(limit).toContain('Severity: Error\r\nService: AMI\r\nEventVersion: 1\r\nAccountID: \r\n');

    // authlimit 3: three sessions not logged in are greeted, a fourth is closed unanswered; after
    // authtimeout the three are dropped too.
    const idle = [await open(), await open(), await open()];
    await waitFor(() => idle.every((o) => o.buf.startsWith('Asterisk Call Manager/11.0.0')));
    const over = await open();
    await waitFor(() => over.closed);
    expect(over.buf).toBe('');
    await waitFor(() => idle.every((o) => o.closed));
    expect(watcher.closed).toBe(false);
    for (const x of [watcher, ...idle]) x.sock.destroy();
  });
});
