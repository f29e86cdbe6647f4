// ari-client 2.2.0, unchanged, against the simulator: it builds itself from /ari/api-docs and
// follows a whole call (inbound into Stasis, outbound create + dial, answer, bridge, hangup).
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { type Simulator, startSimulator } from '../../src/simulator/index.ts';
import { waitFor } from '../helpers/wait.ts';

const require = createRequire(import.meta.url);
interface AriEvent {
  type: string;
  args?: string[];
  dialstatus?: string;
  channel?: { id: string };
  peer?: { id: string };
  cause?: number;
}
interface AriClientLike {
  on(ev: string, cb: (e: AriEvent, obj?: unknown) => void): void;
  start(apps: string | string[]): Promise<void>;
  stop(): void;
  channels: Record<string, (o: Record<string, unknown>) => Promise<{ id: string; state?: string }>>;
  bridges: Record<string, (o: Record<string, unknown>) => Promise<{ id: string; channels?: string[] }>>;
  asterisk: Record<string, (o?: Record<string, unknown>) => Promise<Record<string, unknown>>>;
}
const Ari = require('ari-client') as { connect(url: string, u: string, p: string): Promise<AriClientLike> };

let sim: Simulator | null = null;
let client: AriClientLike | null = null;
afterEach(async () => {
  client?.stop();
  await sim?.stop();
});

describe('ari-client 2.2.0 against the simulator', () => {
  it('connects, registers an app and sees a whole call', async () => {
    sim = await startSimulator({ ariPort: 0, amiPort: 0, endpoints: { 'client-a': { answerAfterMs: 20 } } });
    client = await Ari.connect(sim.ariUrl, 'asterisk', 'asterisk');
    const events: AriEvent[] = [];
    client.on('*', (e) => events.push(e));
    await client.start('capconduit');
    const info = await client.asterisk.getInfo!();
    expect((info.system as { version: string }).version).toMatch(/^22\./);
    // Place the call once the app's WebSocket is registered (before, Stasis() would fail at once).
    await waitFor(() => {
      const before = sim!.stats.stasisFailed;
      const id = sim!.placeInboundCall({ did: '14155550100', callerNumber: '+12125550000' });
      if (sim!.stats.stasisFailed !== before) return undefined;
      return id;
    }, 5000);
    const start = await waitFor(() => events.find((e) => e.type === 'StasisStart'));
    expect(start.args).toEqual(['inbound']);
    const callerId = start.channel!.id;

    const leg = await client.channels.create!({
      endpoint: 'PJSIP/client-a',
      app: 'capconduit',
      channelId: 'leg-ac',
    });
    expect(leg.id).toBe('leg-ac');
    await waitFor(() => events.find((e) => e.type === 'StasisStart' && e.channel?.id === 'leg-ac'));
    await client.channels.dial!({ channelId: 'leg-ac', timeout: 5 });
    await waitFor(() => events.find((e) => e.type === 'Dial' && e.dialstatus === 'ANSWER'));
    await client.channels.answer!({ channelId: callerId });
    const bridge = await client.bridges.create!({ type: 'mixing', bridgeId: 'br-ac' });
    expect(bridge.id).toBe('br-ac');
    await client.bridges.addChannel!({ bridgeId: 'br-ac', channel: [callerId, 'leg-ac'] });
    await waitFor(() => events.filter((e) => e.type === 'ChannelEnteredBridge').length === 2);
    await client.channels.hangup!({ channelId: 'leg-ac' });
    const destroyed = await waitFor(() =>
      events.find((e) => e.type === 'ChannelDestroyed' && e.channel?.id === 'leg-ac'),
    );
    expect(destroyed.cause).toBe(16);
    const list = await client.channels.list!({});
    const left = list as unknown as Array<{ id: string; name: string }>;
    expect(left.map((c) => c.id)).toContain(callerId);
    expect(left.map((c) => c.name.slice(-2)).sort()).toEqual([';1', ';2']); // the Local channel's halves
  });
});
