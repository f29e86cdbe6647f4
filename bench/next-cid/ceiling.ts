// Ceilings of the next-cid benchmark: bare Fastify around one Redis script call per request, with
// none of the daemon's layers (no key check, logging, metrics or usage flush). Run in its own process
// with the daemon's REDIS_URL and key prefix; prints its port on stdout.
//   pick: the very same pick (pickCid on the daemon's state): the most a server around it can do;
//   hop:  a script that returns at once, called with the pick's keys and arguments: the Redis round
//         trip alone. Between the two lies what the pick script's own time costs.
import Fastify from 'fastify';
import { BucketClock, calleeFacts } from '../../src/callerid/decide.ts';
import { CidStore, pickCall } from '../../src/callerid/store.ts';
import { createRedis } from '../../src/platform/redis/client.ts';
import { RedisKeys } from '../../src/platform/redis/keys.ts';
import { corked } from '../../src/platform/redis/scripts.ts';

const mode = process.argv[2] === 'hop' ? 'hop' : 'pick';
const redis = createRedis(process.env.REDIS_URL!);
const store = new CidStore(redis, new RedisKeys(process.env.REDIS_KEY_PREFIX!));
const hop = "return { 1, 'hop', 0, 4 }";
const hopSha = (await redis.script('LOAD', hop)) as string;
const clock = new BucketClock('UTC');
const app = Fastify({ logger: false });
app.get<{ Querystring: { campaign: string; to?: string; agent?: string } }>(
  '/next-cid',
  async (req, reply) => {
    const now = Date.now();
    const p = {
      pool: req.query.campaign,
      callee: calleeFacts(req.query.to),
      agent: req.query.agent ?? '-',
      now,
      ttlMs: 1000, // the daemon's CID_RESERVATION_TTL_S in the bench
      buckets: clock.at(now),
      ratePerMin: 100_000_000,
      promoteBatch: 32,
    };
    if (mode === 'hop') {
      const c = pickCall(store.keys, p);
      const r = (await corked(redis).evalsha(hopSha, c.keys.length, ...c.keys, ...c.args)) as [
        number,
        string,
      ];
      return { caller_id: r[1], expires_at: new Date(now).toISOString(), campaign: p.pool };
    }
    const r = await store.pick(p);
    if (r.kind !== 'picked') return reply.code(503).send({ error: r.kind });
    return { caller_id: r.number, expires_at: new Date(r.expiresAt).toISOString(), campaign: p.pool };
  },
);
const addr = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`${new URL(addr).port}\n`);
