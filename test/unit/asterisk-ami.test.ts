// AMI client framing and failure paths against a scripted TCP peer (things the simulator cannot be
// made to do on purpose: split UTF-8, silent peers, responses out of order).
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AmiClient,
  AmiDisconnectedError,
  AmiParser,
  AmiValueError,
  encodeAction,
} from '../../src/asterisk/ami.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });

interface Peer {
  server: Server;
  port: number;
  sockets: Socket[];
  received: string[];
  onAction: (s: Socket, f: Record<string, string>) => void;
}

async function peer(onAction: Peer['onAction']): Promise<Peer> {
  const p: Peer = { server: createServer(), port: 0, sockets: [], received: [], onAction };
  p.server.on('connection', (s) => {
    p.sockets.push(s);
    s.write('Asterisk Call Manager/11.0.0\r\n');
    const parser = new AmiParser();
    parser.greeting = ''; // the peer reads no greeting
    s.on('data', (d: Buffer) => {
      p.received.push(d.toString());
      for (const m of parser.push(d)) p.onAction(s, m.fields);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => p.server.listen(0, '127.0.0.1', r));
  p.port = (p.server.address() as { port: number }).port;
  return p;
}

const loginOk = (s: Socket, f: Record<string, string>) => {
  if (f.action === 'Login')
    s.write(`Response: Success\r\nActionID: ${f.actionid}\r\nMessage: Authentication accepted\r\n\r\n`);
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function connected(p: Peer, extra: Partial<ConstructorParameters<typeof AmiClient>[0]> = {}) {
  const c = new AmiClient({ host: '127.0.0.1', port: p.port, user: 'u', secret: 's', log, ...extra });
  cleanup.push(
    () => c.stop(),
    () =>
      new Promise<void>((r) => {
        for (const s of p.sockets) s.destroy();
        p.server.close(() => r());
      }),
  );
  const up = new Promise<void>((r) => c.once('connected', () => r()));
  c.start();
  await up;
  return c;
}

describe('AMI encoding and parsing', () => {
  it('refuses CR or LF in any value or key', () => {
    expect(() => encodeAction('Originate', '1', { CallerID: 'x\r\n\r\nAction: Command' })).toThrow(
      AmiValueError,
    );
    expect(() => encodeAction('Originate', '1', { 'Bad\nKey': 'v' })).toThrow(AmiValueError);
    expect(encodeAction('Ping', '7', {})).toBe('Action: Ping\r\nActionID: 7\r\n\r\n');
  });

  it('reassembles UTF-8 split across reads and lower-cases header names', () => {
    const p = new AmiParser();
    const bytes = Buffer.from(
      'Asterisk Call Manager/11.0.0\r\nEVENT: Newchannel\r\nCallerIDName: Zoë\r\n\r\n',
    );
    const cut = bytes.indexOf(Buffer.from('ë')) + 1; // inside the two-byte character
    expect(p.push(bytes.subarray(0, cut))).toEqual([]);
    const [m] = p.push(bytes.subarray(cut));
    expect(p.greeting).toBe('Asterisk Call Manager/11.0.0');
    expect(m!.fields).toEqual({ event: 'Newchannel', calleridname: 'Zoë' });
  });
});

describe('AmiClient', () => {
  it('writes nothing when a value carries CR/LF', async () => {
    const p = await peer(loginOk);
    const c = await connected(p);
    const before = p.received.join('');
    await expect(
      c.action('Originate', { Channel: 'Local/1@x', CallerID: 'a\r\nAction: Command' }),
    ).rejects.toThrow(AmiValueError);
    await new Promise((r) => setTimeout(r, 50));
    expect(p.received.join('')).toBe(before);
  });

  it('correlates responses by ActionID with events interleaved, and collects EventLists', async () => {
    const held: Array<Record<string, string>> = [];
    const p = await peer((s, f) => {
      loginOk(s, f);
      if (f.action === 'Ping') {
        held.push(f);
        if (held.length === 2) {
          // Answer in reverse order, with an unsolicited event in between.
          s.write(`Response: Success\r\nActionID: ${held[1]!.actionid}\r\nPing: Pong\r\nX: second\r\n\r\n`);
          s.write('Event: Newstate\r\nChannel: PJSIP/a-00000001\r\nChannelStateDesc: Ringing\r\n\r\n');
          s.write(`Response: Success\r\nActionID: ${held[0]!.actionid}\r\nPing: Pong\r\nX: first\r\n\r\n`);
        }
      }
      if (f.action === 'CoreShowChannels') {
        const id = f.actionid;
        s.write(
          `Response: Success\r\nActionID: ${id}\r\nEventList: start\r\nMessage: Channels will follow\r\n\r\n`,
        );
        s.write(`Event: CoreShowChannel\r\nActionID: ${id}\r\nChannel: PJSIP/a-1\r\n\r\n`);
        s.write('Event: Hangup\r\nChannel: PJSIP/z-9\r\nCause: 16\r\n\r\n');
        s.write(`Event: CoreShowChannel\r\nActionID: ${id}\r\nChannel: PJSIP/b-2\r\n\r\n`);
        s.write(
          `Event: CoreShowChannelsComplete\r\nActionID: ${id}\r\nEventList: Complete\r\nListItems: 2\r\n\r\n`,
        );
      }
    });
    const c = await connected(p);
    const events: string[] = [];
    c.on('event', (e: { event: string }) => events.push(e.event));
    const [a, b] = await Promise.all([c.action('Ping'), c.action('Ping')]);
    expect(a.response.fields.x).toBe('first');
    expect(b.response.fields.x).toBe('second');
    const list = await c.action('CoreShowChannels');
    expect(list.events.map((e) => e.fields.channel)).toEqual(['PJSIP/a-1', 'PJSIP/b-2']);
    expect(events).toEqual(['Newstate', 'Hangup']);
  });

  it('rejects actions in flight as soon as the link drops, then reconnects and logs in again', async () => {
    let logins = 0;
    const p = await peer((s, f) => {
      if (f.action === 'Login') logins++;
      loginOk(s, f);
      if (f.action === 'Command') s.destroy(); // never answers
      if (f.action === 'Ping') s.write(`Response: Success\r\nActionID: ${f.actionid}\r\nPing: Pong\r\n\r\n`);
    });
    const c = await connected(p, { backoff: { baseMs: 20, maxMs: 100 } });
    const t0 = Date.now();
    await expect(c.action('Command', { Command: 'core show uptime' }, { timeoutMs: 30_000 })).rejects.toThrow(
      AmiDisconnectedError,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
    await new Promise<void>((r) => c.once('connected', () => r()));
    expect(logins).toBe(2);
    expect(c.reconnects).toBe(1);
    expect((await c.action('Ping')).response.fields.ping).toBe('Pong');
  }, 15_000);

  it('keeps delivering events after a listener throws', async () => {
    const p = await peer((s, f) => {
      loginOk(s, f);
      if (f.action === 'Ping') {
        s.write('Event: A\r\n\r\nEvent: B\r\n\r\n');
        s.write(`Response: Success\r\nActionID: ${f.actionid}\r\n\r\n`);
      }
    });
    const c = await connected(p);
    const seen: string[] = [];
    c.on('event', (e: { event: string }) => {
      seen.push(e.event);
      if (e.event === 'A') throw new Error('boom');
    });
    await c.action('Ping');
    expect(seen).toEqual(['A', 'B']);
  });

  it('takes FullyBooted after login as an event; with a filter to set, logs in with events off until it is set', async () => {
    // Asterisk writes FullyBooted right after a login's answer to a session that may read system
    // events, and reports the login as SuccessfulAuth (a security event) to it.
    const actions: Array<Record<string, string>> = [];
    const p = await peer((s, f) => {
      actions.push(f);
      if (f.action === 'Login') {
        s.write(`Response: Success\r\nActionID: ${f.actionid}\r\nMessage: Authentication accepted\r\n\r\n`);
        if (f.events?.toLowerCase() !== 'off')
          s.write(
            'Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 5\r\nLastReload: 5\r\nStatus: Fully Booted\r\n\r\n' +
              'Event: SuccessfulAuth\r\nPrivilege: security,all\r\nService: AMI\r\nAccountID: u\r\n\r\n',
          );
      } else s.write(`Response: Success\r\nActionID: ${f.actionid}\r\nMessage: Success\r\n\r\n`);
    });
    const all = await connected(p);
    const seen: string[] = [];
    all.on('event', (e: { event: string }) => seen.push(e.event));
    await all.action('Ping');
    expect(actions[0]).not.toHaveProperty('events');
    expect(seen).toEqual(['FullyBooted', 'SuccessfulAuth']);
    expect(all.eventFilter).toBeNull();

    const q = await peer((s, f) => {
      actions.push(f);
      s.write(`Response: Success\r\nActionID: ${f.actionid}\r\nMessage: Success\r\n\r\n`);
    });
    actions.length = 0;
    const filtered = await connected(q, { eventNames: () => ['Hangup'] });
    await waitFor(() => filtered.eventFilter === 'Hangup');
    await filtered.action('Ping');
    expect(actions.map((a) => [a.action, a.events ?? a.eventmask ?? a.operation])).toEqual([
      ['Login', 'off'],
      ['Filter', 'Add'],
      ['Events', 'on'],
      ['Ping', undefined],
    ]);
    expect(filtered.eventFilter).toBe('Hangup');
  });
});
