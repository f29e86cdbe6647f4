// The daemon's own ARI and AMI clients (src/asterisk) against a simulator, with every event they
// deliver kept in order: the setup of the clients' tests and of the tests that check Asterisk's
// behaviour through them. What the client opens is closed by `cleanup`.
import { type AmiEvent, AmiClient, type AmiOptions } from '../../src/asterisk/ami.ts';
import { AriClient, type AriOptions } from '../../src/asterisk/ari.ts';
import type { AnyAriEvent } from '../../src/asterisk/types.ts';
import { createLogger } from '../../src/platform/logger.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import type { Cleanup } from './cleanup.ts';

const log = createLogger({ level: 'silent' });

/** An ARI client of the app `capconduit` (or `o.apps`) on `url` (a simulator's ARI), not started. */
export function ariClient<E extends AnyAriEvent = AnyAriEvent>(
  url: string,
  cleanup: Cleanup,
  o: Partial<AriOptions> = {},
) {
  const c = new AriClient({ url, user: 'asterisk', password: 'asterisk', apps: ['capconduit'], log, ...o });
  const events: E[] = [];
  c.on('event', (e: E) => events.push(e));
  cleanup.push(() => c.stop());
  return { c, events };
}

/** An AMI client of the simulator's manager, not started. */
export function amiClient(s: Simulator, cleanup: Cleanup, o: Partial<AmiOptions> = {}) {
  const c = new AmiClient({
    host: '127.0.0.1',
    port: s.amiPort,
    user: 'asterisk',
    secret: 'asterisk',
    log,
    ...o,
  });
  const events: AmiEvent[] = [];
  c.on('event', (e: AmiEvent) => events.push(e));
  cleanup.push(() => c.stop());
  return { c, events };
}

/** Starts a client and resolves once it is connected (an AMI client: logged in). */
export async function connected<C extends AriClient | AmiClient>(c: C): Promise<C> {
  const up = new Promise((r) => c.once('connected', r));
  c.start();
  await up;
  return c;
}
