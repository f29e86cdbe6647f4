// ARI REST transports against the simulator: 1,000 sequential `GET /asterisk/info` over HTTP (keep-alive
// node:http) and over the events WebSocket (RESTRequest/RESTResponse). Prints wall time and the CPU
// of this process, which holds both the client and the simulator (so both sides are counted).
//   npx tsx bench/ari-transport/run.ts [--requests 1000]
import { parseArgs } from 'node:util';
import { AriClient } from '../../src/asterisk/ari.ts';
import { createLogger } from '../../src/platform/logger.ts';
import { startSimulator } from '../../src/simulator/index.ts';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' } } });
const n = Number(values.requests);
const sim = await startSimulator({ ariPort: 0, amiPort: 0 });
for (const transport of ['http', 'websocket'] as const) {
  const c = new AriClient({
    url: sim.ariUrl,
    user: 'asterisk',
    password: 'asterisk',
    apps: [`bench-${transport}`],
    log: createLogger({ level: 'silent' }),
    transport,
  });
  const up = new Promise((r) => c.once('connected', r));
  c.start();
  await up;
  // Warm-up: JIT and connection pool.
  await Promise.all(Array.from({ length: 200 }, () => c.asterisk.info()));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await c.asterisk.info();
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  console.log(
    `${transport.padEnd(9)} ${n} sequential requests: ${ms.toFixed(0)} ms, ${((ms / n) * 1000).toFixed(0)} us each; CPU (client + simulator) ${((cpu.user + cpu.system) / 1000 / n).toFixed(3)} ms a request`,
  );
  await c.stop();
}
await sim.stop();
