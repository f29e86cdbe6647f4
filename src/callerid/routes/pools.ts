// Caller-ID pools: /v1/cid-pools (the numbers a dialer's campaign rotates through).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { orderFrom, page } from '../../platform/http/paging.ts';
import { poolBody, poolParams, poolPatch, poolsQuery } from '../schemas.ts';
import { poolDoc } from '../examples.ts';
import type { CallerIdService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function poolRoutes(service: CallerIdService) {
  return async function pools(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['caller-ids'];
    app.get(
      '/v1/cid-pools',
      {
        config,
        schema: {
          summary:
            'List caller-ID pools, paged, sorted (id, name, numbers, created) and filtered (q: part of the id or name)',
          tags,
          querystring: poolsQuery,
          response: { 200: page(poolDoc) },
        },
      },
      (req) => service.listPools({ ...req.query, order: orderFrom(req.query) }),
    );
    app.get(
      '/v1/cid-pools/:id',
      {
        config,
        schema: { summary: 'One caller-ID pool', tags, params: poolParams, response: { 200: poolDoc } },
      },
      (req) => service.getPool(req.params.id),
    );
    app.post(
      '/v1/cid-pools',
      {
        config,
        schema: {
          summary: 'Create a caller-ID pool with its usage limits and rest',
          tags,
          body: withExample(poolBody, {
            id: 'tx-outbound',
            name: 'Texas outbound',
            fallback_number: '+15125550100',
            health_window: 50,
            health_min_answer_rate: 0.1,
            health_rest_s: 3600,
          }),
          response: { 201: poolDoc },
        },
      },
      async (req, reply) => reply.status(201).send(await service.createPool(req.body)),
    );
    app.patch(
      '/v1/cid-pools/:id',
      {
        config,
        schema: {
          summary: "Change a caller-ID pool's limits",
          tags,
          params: poolParams,
          body: withExample(poolPatch, { health_rest_s: 7200 }),
          response: { 200: poolDoc },
        },
      },
      (req) => service.updatePool(req.params.id, req.body),
    );
    app.delete(
      '/v1/cid-pools/:id',
      {
        config,
        schema: {
          summary: 'Delete a caller-ID pool and its numbers',
          tags,
          params: poolParams,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await service.deletePool(req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
