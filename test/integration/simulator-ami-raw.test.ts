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
});
