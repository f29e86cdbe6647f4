// /v1/campaigns: a seller key manages its own campaigns; admin/staff manage all.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, page, pageBody } from '../../platform/http/paging.ts';
import {
  campaignCreateBody,
  campaignPatchBody,
  campaignsQuery,
  cascadeQuery,
  toCampaign,
} from '../schemas.ts';
import { campaignDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function campaignRoutes(svc: RoutingService) {
  return async function campaigns(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['campaigns'];

    app.get(
      '/v1/campaigns',
      {
        config,
        schema: {
          summary: 'List campaigns, paged, optionally by seller',
          tags,
          querystring: campaignsQuery,
          response: { 200: page(campaignDoc) },
        },
      },
      async (req) => {
        const { limit, offset, seller_id } = req.query;
        const r = await svc.listCampaigns({ limit, offset, sellerId: scopeOf(req) ?? seller_id });
        return pageBody(req.query, r, toCampaign);
      },
    );
    app.get(
      '/v1/campaigns/:id',
      { config, schema: { summary: 'One campaign', tags, params: idParams, response: { 200: campaignDoc } } },
      async (req) => toCampaign(await svc.campaign(req.params.id, scopeOf(req))),
    );
    app.post(
      '/v1/campaigns',
      {
        config,
        schema: {
          summary: 'Create a campaign for a seller: strategy, filters, default route',
          tags,
          body: withExample(campaignCreateBody, {
            name: 'Final expense - TX',
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            strategy: 'priority',
            ring_timeout_s: 25,
            max_attempts: 3,
            dup_window_h: 24,
            reject_anonymous: true,
            max_reroutes: 2,
            default_route: { kind: 'message', media: ['sound:all-circuits-busy-now'] },
          }),
          response: { 201: campaignDoc },
        },
      },
      async (req, reply) =>
        reply.status(201).send(toCampaign(await svc.createCampaign(req.body, scopeOf(req), req.actor))),
    );
    app.patch(
      '/v1/campaigns/:id',
      {
        config,
        schema: {
          summary: "Change a campaign's routing settings",
          tags,
          params: idParams,
          body: withExample(campaignPatchBody, { ring_timeout_s: 30, repeat_window_s: 120 }),
          response: { 200: campaignDoc },
        },
      },
      async (req) => toCampaign(await svc.updateCampaign(req.params.id, req.body, scopeOf(req), req.actor)),
    );
    app.delete(
      '/v1/campaigns/:id',
      {
        config,
        schema: {
          summary: 'Delete a campaign (cascade=true also removes its links and detaches its DIDs)',
          tags,
          params: idParams,
          querystring: cascadeQuery,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await svc.deleteCampaign(req.params.id, req.query.cascade, scopeOf(req), req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
