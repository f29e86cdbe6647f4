// AMI on the wire, with a bare socket: what any AMI client (not just ours) sees from the simulator.
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
      o.buf = '';
      return o;
    };
    const all = await session([]);
    const hangups = await session(['^Event: (Hangup)[[:space:]]']); // not HangupRequest
    const notState = await session(['!^Event: Newstate[[:space:]]']);
    const both = await session(['^Event: (Newchannel|Hangup)[[:space:]]', '!Channel: Local/.*;2']);
    const off = await session([], true);
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
    for (const x of [all, hangups, notState, both, off]) x.sock.destroy();
  });
});
