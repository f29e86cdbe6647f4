// What a real Asterisk 22.10.1 did in the recorded scenarios, checked on the simulator through our
// own clients: channels/create of a Local dial string (a pair whose ;2 runs the dialplan), a far end that hangs up busy (ChannelDestroyed with
// cause 17 and no final Dial), and a dialplan channel leaving the app with StasisEnd only.
import { afterEach, describe, expect, it } from 'vitest';
import { type AmiEvent, AmiClient } from '../../src/asterisk/ami.ts';
import { AriClient } from '../../src/asterisk/ari.ts';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startSimulator } from '../../src/simulator/index.ts';
import { waitFor } from '../helpers/wait.ts';

const log = createLogger({ level: 'silent' });
let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

type Ev = AnyAriEvent & {
  channel?: { id: string; name: string };
  peer?: { id: string };
  dialstatus?: string;
  cause?: number;
};

async function setup() {
  const s = await startSimulator({ ariPort: 0, amiPort: 0, badLoginDelayMs: 50 });
  cleanup.push(() => s.stop());
  const ari = new AriClient({
    url: s.ariUrl,
    user: 'asterisk',
    password: 'asterisk',
    apps: ['capconduit'],
    log,
  });
  const events: Ev[] = [];
  ari.on('event', (e: Ev) => events.push(e));
  cleanup.push(() => ari.stop());
  const up = new Promise((r) => ari.once('connected', r));
  ari.start();
  await up;
  const ami = new AmiClient({
    host: '127.0.0.1',
    port: s.amiPort,
    user: 'asterisk',
    secret: 'asterisk',
    log,
  });
  const amiEvents: AmiEvent[] = [];
  ami.on('event', (e: AmiEvent) => amiEvents.push(e));
  cleanup.push(() => ami.stop());
  const amiUp = new Promise((r) => ami.once('connected', r));
  ami.start();
  await amiUp;
  return { s, ari, events, ami, amiEvents };
}

describe('the simulator as a real Asterisk 22 behaved', () => {
  it('creates a Local dial string as a pair; a busy far end ends the leg with cause 17 and no final Dial', async () => {
    const { ari, events } = await setup();
    const leg = await ari.channels.create({
      endpoint: 'Local/14155550100@from-carrier',
      app: 'capconduit',
      channelId: 'leg-1',
    });
    expect(leg).toMatchObject({ id: 'leg-1', state: 'Down' });
    expect(leg.name).toMatch(/^Local\/14155550100@from-carrier-[0-9a-f]{8};1$/);
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-1'));
    await ari.channels.dial('leg-1', { timeout: 30 });
    // The far side (`;2`, id `leg-1;2`) runs the dialplan into the app.
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-1;2'));
    expect(events.find((e) => e.type === 'Dial' && e.peer?.id === 'leg-1')?.dialstatus).toBe('');
    await ari.channels.hangup('leg-1;2', 'busy');
    const gone = await waitFor(() =>
      events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-1'),
    );
    expect(gone.cause).toBe(17);
    const finals = events.filter((e) => e.type === 'Dial' && !['', 'RINGING'].includes(e.dialstatus ?? ''));
    expect(finals).toEqual([]);
    // `;2` entered Stasis from the dialplan: StasisEnd, and no ChannelDestroyed in the app.
    await waitFor(() => events.find((e) => e.type === 'StasisEnd' && e.channel?.id === 'leg-1;2'));
    expect(events.some((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-1;2')).toBe(false);
  });
});
