// Live caller-ID statistics from the Redis hot state: /v1/caller-ids/stats.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { pagedPoolFilter, poolOf } from '../schemas.ts';
import { statsDoc } from '../examples.ts';
import type { CallerIdService } from '../service.ts';

export function statsRoutes(service: CallerIdService) {
  return async function stats(fastify: FastifyInstance) {
    fastify.withTypeProvider<ZodTypeProvider>().get(
      '/v1/caller-ids/stats',
      {
        config: { auth: { roles: STAFF } },
        schema: {
          tags: ['caller-ids'],
          summary: 'Caller-ID usage and answer rates per pool',
          querystring: pagedPoolFilter,
          response: { 200: statsDoc },
        },
      },
      (req) => service.stats(poolOf(req.query), req.query.limit, req.query.offset),
    );
  };
}
