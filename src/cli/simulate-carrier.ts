import { createLogger } from '../platform/logger.ts';
import { FakeCarrier, type NpaFault } from '../provisioning/providers/fake/server.ts';
import { parseCli } from './args.ts';
import { UsageError } from './errors.ts';
import { ensurePortsFree } from './ports.ts';

export const usage = `usage: capconduit simulate-carrier [--port 8089] [--host 127.0.0.1] [--api-key <k>] [--api-secret <s>]
                                  [--inventory 20] [--rate-limit <n>] [--fault <NPA>:<kind>]...

Runs the fake Vonage carrier (Numbers, Subaccounts, Programmable SIP) on loopback for provisioning
tests and demos; point a provider account's rest_url and api_url at it. Stops on SIGINT/SIGTERM.
`;

const FAULTS: NpaFault[] = [
  'no-inventory',
  'buy-420-succeeded',
  'buy-429-once',
  'buy-5xx-once',
  'buy-5xx-always',
  'taken-after-search',
  'slow',
];

/** `capconduit simulate-carrier`: the fake Vonage (Numbers, Subaccounts, Programmable SIP) on loopback. */
export async function run(argv: string[]): Promise<number> {
  const { values } = parseCli(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'api-key': { type: 'string' },
    'api-secret': { type: 'string' },
    inventory: { type: 'string' },
    'rate-limit': { type: 'string' },
    fault: { type: 'string', multiple: true },
  });
  const port = Number(values.port ?? 8089);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError('--port must be a port number');
  const npa: Record<string, NpaFault> = {};
  // --fault NPA:kind, e.g. --fault 305:buy-420-succeeded
  for (const f of values.fault ?? []) {
    const [n, kind] = f.split(':');
    if (!n || !/^[2-9]\d\d$/.test(n) || !FAULTS.includes(kind as NpaFault))
      throw new UsageError(`--fault ${f}: expected NPA:${FAULTS.join('|')}`);
    npa[n] = kind as NpaFault;
  }
  const carrier = new FakeCarrier({
    apiKey: values['api-key'] ?? 'fakekey1',
    apiSecret: values['api-secret'] ?? 'fakesecret1',
    inventoryPerNpa: Number(values.inventory ?? 20),
    faults: { npa, rateLimitPerSec: Number(values['rate-limit'] ?? 0) },
  });
  await ensurePortsFree([{ host: values.host ?? '127.0.0.1', port, setting: '--port' }]);
  const url = await carrier.listen(port, values.host ?? '127.0.0.1');
  const log = createLogger({ level: 'info', name: 'carrier' });
  log.info(
    { url, faults: npa },
    'fake Vonage listening (point rest_url and api_url of a provider account here)',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await carrier.close();
  return 0;
}
