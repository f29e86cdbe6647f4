// /v1/sellers: sellers (lead generators), managed by admin/staff.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageBody, pageQuery } from '../../platform/http/paging.ts';
import { sellerBody, toSeller } from '../schemas.ts';
import { sellerDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function sellerRoutes(svc: RoutingService) {
  return async function sellers(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['sellers'];

    app.get(
      '/v1/sellers',
      {
        config,
        schema: {
          summary: 'List sellers (lead sources), paged',
          tags,
          querystring: pageQuery,
          response: { 200: page(sellerDoc) },
        },
      },
      async (req) => pageBody(req.query, await svc.listSellers(req.query), toSeller),
    );
    app.get(
      '/v1/sellers/:id',
      { config, schema: { summary: 'One seller', tags, params: idParams, response: { 200: sellerDoc } } },
      async (req) => toSeller(await svc.seller(req.params.id)),
    );
    app.post(
      '/v1/sellers',
      {
        config,
        schema: {
          summary: 'Create a seller, with its optional caps',
          tags,
          body: withExample(sellerBody, { name: 'Acme Leads', daily_cap: 500, concurrency_cap: 40 }),
          response: { 201: sellerDoc },
        },
      },
      async (req, reply) => reply.status(201).send(toSeller(await svc.createSeller(req.body, req.actor))),
    );
    app.patch(
      '/v1/sellers/:id',
      {
        config,
        schema: {
          summary: "Change a seller's name, caps or postback",
          tags,
          params: idParams,
          body: withExample(sellerBody.partial(), { daily_cap: 800 }),
          response: { 200: sellerDoc },
        },
      },
      async (req) => toSeller(await svc.updateSeller(req.params.id, req.body, req.actor)),
    );
    app.delete(
      '/v1/sellers/:id',
      {
        config,
        schema: {
          summary: 'Delete a seller that no campaign or DID uses',
          tags,
          params: idParams,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await svc.deleteSeller(req.params.id, req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
