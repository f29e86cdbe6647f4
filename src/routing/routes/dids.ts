// /v1/dids: numbers owned by a seller, each attached to at most one campaign of the same seller.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { didCreateBody, didPatchBody, didsQuery, toDid } from '../schemas.ts';
import { didDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function didRoutes(svc: RoutingService) {
  return async function dids(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['dids'];

    app.get(
      '/v1/dids',
      {
        config,
        schema: {
          summary:
            'List DIDs (inbound numbers), paged and sorted, filtered by seller, campaign, routed or not, switched on or off, part of the number, provider account',
          tags,
          querystring: didsQuery,
          response: { 200: page(didDoc) },
        },
      },
      async (req) => {
        const q = req.query;
        const r = await svc.listDids({
          limit: q.limit,
          offset: q.offset,
          sellerId: scopeOf(req) ?? q.seller_id ?? null,
          campaignId: q.campaign_id,
          routed: q.routed,
          active: q.active,
          digits: q.number,
          account: q.provider_account_id,
          order: orderFrom(q),
        });
        return pageBody(req.query, r, (x) => toDid(x, !scopeOf(req)));
      },
    );
    app.get(
      '/v1/dids/:id',
      { config, schema: { summary: 'One DID', tags, params: idParams, response: { 200: didDoc } } },
      async (req) => toDid(await svc.did(req.params.id, scopeOf(req)), !scopeOf(req)),
    );
    app.post(
      '/v1/dids',
      {
        config,
        schema: {
          summary: 'Add a DID and point it at a campaign',
          tags,
          body: withExample(didCreateBody, {
            number: '+15125550142',
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            campaign_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            daily_cap: 200,
            rate_per_min_micros: 4000,
            monthly_rent_micros: 1_000_000,
          }),
          response: { 201: didDoc },
        },
      },
      async (req, reply) =>
        reply.status(201).send(toDid(await svc.createDid(req.body, scopeOf(req), req.actor), !scopeOf(req))),
    );
    app.patch(
      '/v1/dids/:id',
      {
        config,
        schema: {
          summary: "Change a DID's campaign, caps or costs",
          tags,
          params: idParams,
          body: withExample(didPatchBody, {
            campaign_id: '9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d',
            hourly_cap: 30,
          }),
          response: { 200: didDoc },
        },
      },
      async (req) =>
        toDid(await svc.updateDid(req.params.id, req.body, scopeOf(req), req.actor), !scopeOf(req)),
    );
    app.delete(
      '/v1/dids/:id',
      { config, schema: { summary: 'Delete a DID', tags, params: idParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.deleteDid(req.params.id, scopeOf(req), req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
