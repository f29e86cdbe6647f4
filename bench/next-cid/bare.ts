// The baseline of the next-cid benchmark: bare Fastify answering a constant caller ID, as its own
// process like the daemon. Prints its port on stdout.
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/next-cid', async () => ({
  caller_id: '+12125550100',
  expires_at: '2026-01-01T00:00:00.000Z',
  campaign: 'BENCH',
  agent: null,
}));
const addr = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${new URL(addr).port}\n`);
