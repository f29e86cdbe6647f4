// Channel-list stall: how long one reading of `GET /channels` at thousands of calls holds the event
// loop, read whole (one JSON.parse, as every ARI request's answer is) against read in slices
// (HttpTransport.listJson, what the reconcile uses). A child process serves a list of synthetic
// channels shaped as Asterisk's (~470 bytes each: dialplan, caller, connected, the three channel
// variables); this process reads it in alternating rounds and prints, per reading, the longest gap
// between two ticks of a 1 ms timer (the longest block), the CPU this process spent in that longest
// stretch of CPU between two ticks (unlike the wall-clock gap, not lengthened by the time a loaded
// machine leaves the process waiting for a core), the event loop's max delay from
// monitorEventLoopDelay, and the reading's wall time. Figures only.
//   npx tsx bench/stall/channel-list.ts [--channels 12000] [--rounds 6]
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { HttpTransport } from '../../src/asterisk/transport-http.ts';

const { values } = parseArgs({
  options: {
    channels: { type: 'string', default: '12000' },
    rounds: { type: 'string', default: '6' },
  },
});
const channels = Number(values.channels);
const rounds = Number(values.rounds);

// The server: builds the list once, answers every GET with it (its own process, so its work is not
// counted in this one's event loop).
const server = spawn(
  process.execPath,
  [
    '-e',
    `
const http = require('node:http');
const n = Number(process.argv[1]);
const list = [];
for (let i = 0; i < n; i++) {
  const call = 'c' + String(i >> 1).padStart(8, '0') + '-4b1e-9a7f-3c2d1e0f9a8b';
  list.push({
    id: i % 2 ? call + '-1' : '1796519932.' + i,
    name: i % 2 ? 'PJSIP/client-' + (i % 10) + '-0000' + i.toString(16) : 'PJSIP/carrier-0000' + i.toString(16),
    state: 'Up',
    protocol_id: 'a84d1f02-55c1-4f4a-bf5e-' + String(i).padStart(12, '0') + '@203.0.113.7',
    caller: { name: '', number: '+1212555' + String(i % 10000).padStart(4, '0') },
    connected: { name: '', number: '+1415555' + String(i % 10000).padStart(4, '0') },
    accountcode: '',
    dialplan: { context: 'from-carrier', exten: '+14155550100', priority: 1, app_name: 'Stasis', app_data: 'capconduit,inbound' },
    creationtime: '2026-12-06T01:30:00.000+0000',
    language: 'en',
    channelvars: i % 2 ? { CAPCONDUIT_CALL_ID: call, CAPCONDUIT_OWNER: 'capconduit', CAPCONDUIT_CALLER: '1796519932.' + (i - 1) } : {},
  });
}
const body = Buffer.from(JSON.stringify(list));
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + ' ' + body.length + '\\n'); });
`,
    String(channels),
  ],
  { stdio: ['ignore', 'pipe', 'inherit'] },
);
const [port, bytes] = await new Promise<number[]>((resolve) =>
  server.stdout!.once('data', (d: Buffer) => resolve(String(d).trim().split(' ').map(Number))),
);
const t = new HttpTransport({
  base: `http://127.0.0.1:${port}/ari`,
  user: 'u',
  password: 'p',
  timeoutMs: 120_000,
  maxSockets: 1,
});

/** One reading, with the longest gap between ticks of a 1 ms timer and the loop's max delay meanwhile. */
async function measure(read: () => Promise<unknown[]>) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let longest = 0;
  let longestCpu = 0;
  const tick = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    longest = Math.max(longest, now - last);
    longestCpu = Math.max(longestCpu, (cpu.user + cpu.system) / 1000);
    last = now;
    lastCpu = process.cpuUsage();
  }, 1);
  h.enable();
  const t0 = performance.now();
  const list = await read();
  const wall = performance.now() - t0;
  // One more tick: a block at the very end is counted too.
  await new Promise((r) => setTimeout(r, 5));
  h.disable();
  clearInterval(tick);
  return { n: list.length, longest, longestCpu, max: h.max / 1e6, wall };
}

console.log(`channel list: ${channels} channels, ${(bytes! / 2 ** 20).toFixed(1)} MB a reading`);
console.log(
  'round | reading | channels | longest block ms | longest CPU stretch ms | loop max delay ms | wall ms',
);
const ways: Array<[string, () => Promise<unknown[]>]> = [
  ['whole', () => t.request<unknown[]>('GET', '/channels')],
  ['sliced', () => t.listJson('/channels')],
];
const seen: Record<string, number[]> = { whole: [], sliced: [] };
const seenCpu: Record<string, number[]> = { whole: [], sliced: [] };
// A warm-up reading each, not printed (the first allocations and compilations).
for (const [, read] of ways) await measure(read);
for (let r = 1; r <= rounds; r++) {
  for (const [name, read] of r % 2 ? ways : [...ways].reverse()) {
    const m = await measure(read);
    seen[name]!.push(m.longest);
    seenCpu[name]!.push(m.longestCpu);
    console.log(
      `${r} | ${name} | ${m.n} | ${m.longest.toFixed(0)} | ${m.longestCpu.toFixed(0)} | ${m.max.toFixed(0)} | ${m.wall.toFixed(0)}`,
    );
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  `median longest block: whole ${median(seen.whole!).toFixed(0)} ms, sliced ${median(seen.sliced!).toFixed(0)} ms; ` +
    `median longest CPU stretch: whole ${median(seenCpu.whole!).toFixed(0)} ms, sliced ${median(seenCpu.sliced!).toFixed(0)} ms`,
);
t.destroy();
server.kill();
