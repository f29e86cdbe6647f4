// GET /next-cid: the dialers' hot path. VICIdial names the pool `campaign` in the query (kept, with
// `pool` beside it); everything else calls it a pool. Redis only, no PostgreSQL.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { AppError } from '../../platform/http/errors.ts';
import { type LogLevel, stricterLevel } from '../../platform/logger.ts';
import { DIALER, nextQuery, poolOf } from '../schemas.ts';
import type { CallerIdService } from '../service.ts';

const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

export function nextCidRoutes(service: CallerIdService) {
  return async function nextCid(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    // The daemon's logger decides what reaches the logs at all; the hot path may log less.
    const logLevel = stricterLevel(app.log.level as LogLevel, app.deps.config.CID_REQUEST_LOG_LEVEL);
    app.get(
      '/next-cid',
      {
        logLevel,
        config: { auth: { roles: DIALER, queryKey: true } },
        schema: {
          summary: 'The next caller ID for an outbound call (VICIdial), by area code with fallback',
          tags: ['caller-ids'],
          querystring: nextQuery,
        },
      },
      async (req, reply) => {
        const q = req.query;
        const pool = poolOf(q)!; // the schema requires one of the two
        const agent = q.agent ?? null; // no agent named: no per-agent limit (a dialer shares one key)
        const r = await service.next({ pool, agent, ...(q.to !== undefined ? { to: q.to } : {}) });
        if (r.kind === 'unknown_pool') throw new AppError('NOT_FOUND', `pool ${pool} not found`);
        if (r.kind === 'rate_limited')
          throw new AppError('RATE_LIMITED', `agent ${agent} asks for caller IDs too fast`, undefined, {
            'retry-after': seconds(r.retryAfterMs),
          });
        if (r.kind === 'exhausted')
          throw new AppError(
            'POOL_EXHAUSTED',
            `every caller ID of pool ${pool} is reserved, resting or at its limit`,
            { next_available_at: r.nextAt ? new Date(r.nextAt).toISOString() : null },
            r.nextAt ? { 'retry-after': seconds(r.nextAt - service.now()) } : undefined,
          );
        if (q.format === 'text') return reply.type('text/plain; charset=utf-8').send(r.number);
        return {
          caller_id: r.number,
          expires_at: r.kind === 'picked' ? new Date(r.expiresAt).toISOString() : null,
          pool,
          campaign: pool, // the name VICIdial's side reads
          agent,
          ...(r.kind === 'picked' ? { match: r.tier } : { fallback: true }),
        };
      },
    );
  };
}
