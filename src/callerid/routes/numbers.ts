// Caller-ID numbers: /v1/caller-ids. `?pool=` (or its older name `?campaign=`) filters by pool.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { page } from '../../platform/http/paging.ts';
import { numberBody, numberParams, numberPatch, pagedPoolFilter, poolFilter, poolOf } from '../schemas.ts';
import { numberDoc } from '../examples.ts';
import type { CallerIdService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function numberRoutes(service: CallerIdService) {
  return async function numbers(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['caller-ids'];
    app.get(
      '/v1/caller-ids',
      {
        config,
        schema: {
          summary: 'List caller-ID numbers with usage and health, paged, by pool',
          tags,
          querystring: pagedPoolFilter,
          response: { 200: page(numberDoc) },
        },
      },
      (req) => service.listNumbers(poolOf(req.query), req.query.limit, req.query.offset),
    );
    app.get(
      '/v1/caller-ids/:number',
      {
        config,
        schema: { summary: 'One caller-ID number', tags, params: numberParams, response: { 200: numberDoc } },
      },
      (req) => service.getNumber(req.params.number),
    );
    app.post(
      '/v1/caller-ids',
      {
        config,
        schema: {
          summary: 'Add a caller-ID number to a pool',
          tags,
          body: withExample(numberBody, {
            number: '+15125550123',
            area_code: '512',
            state: 'TX',
            hourly_limit: 20,
            daily_limit: 100,
            pools: ['tx-outbound'],
          }),
          response: { 201: numberDoc },
        },
      },
      async (req, reply) => {
        const { number, ...rest } = req.body;
        return reply.status(201).send(await service.createNumber(number, rest));
      },
    );
    app.patch(
      '/v1/caller-ids/:number',
      {
        config,
        schema: {
          summary: 'Enable, disable or rest a caller-ID number',
          tags,
          params: numberParams,
          body: withExample(numberPatch, { active: false }),
          response: { 200: numberDoc },
        },
      },
      (req) => service.updateNumber(req.params.number, req.body),
    );
    app.delete(
      '/v1/caller-ids/:number',
      {
        config,
        schema: {
          summary: 'Remove a caller-ID number from a pool',
          tags,
          params: numberParams,
          querystring: poolFilter,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        // With a pool named only the membership goes; without, the number itself.
        await service.deleteNumber(req.params.number, poolOf(req.query));
        return reply.status(204).send(null);
      },
    );
  };
}
