// /v1/campaigns/:id/links and /v1/links/:id: campaign-client links with their caps. A seller
// manages the links of its own campaigns.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams } from '../../platform/http/paging.ts';
import { linkCreateBody, linkPatchBody, toLink } from '../schemas.ts';
import { linkDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function linkRoutes(svc: RoutingService) {
  return async function links(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['links'];

    app.get(
      '/v1/campaigns/:id/links',
      {
        config,
        schema: {
          summary: "List a campaign's links to clients",
          tags,
          params: idParams,
          response: { 200: z.object({ items: z.array(linkDoc) }) },
        },
      },
      async (req) => ({
        items: (await svc.linksOfCampaign(req.params.id, scopeOf(req))).map((l) => toLink(l, !scopeOf(req))),
      }),
    );
    app.post(
      '/v1/campaigns/:id/links',
      {
        config,
        schema: {
          summary: 'Link a client to a campaign: caps, priority, weight, money',
          tags,
          params: idParams,
          body: withExample(linkCreateBody, {
            client_id: 'b7c8d9e0-1f2a-4b3c-9d4e-5f6a7b8c9d0e',
            priority: 1,
            weight: 100,
            concurrency_cap: 10,
            daily_cap: 150,
            convert_after_s: 90,
            payout_micros: 25_000_000,
            revenue_micros: 40_000_000,
            billing_increment: '6/6',
            recovery_s: 10,
          }),
          response: { 201: linkDoc },
        },
      },
      async (req, reply) =>
        reply
          .status(201)
          .send(
            toLink(await svc.createLink(req.params.id, req.body, scopeOf(req), req.actor), !scopeOf(req)),
          ),
    );
    app.get(
      '/v1/links/:id',
      { config, schema: { summary: 'One link', tags, params: idParams, response: { 200: linkDoc } } },
      async (req) => toLink(await svc.link(req.params.id, scopeOf(req)), !scopeOf(req)),
    );
    app.patch(
      '/v1/links/:id',
      {
        config,
        schema: {
          summary: "Change a link's caps, priority, weight, schedule or money",
          tags,
          params: idParams,
          body: withExample(linkPatchBody, { concurrency_cap: 15, weight: 50 }),
          response: { 200: linkDoc },
        },
      },
      async (req) =>
        toLink(await svc.updateLink(req.params.id, req.body, scopeOf(req), req.actor), !scopeOf(req)),
    );
    app.delete(
      '/v1/links/:id',
      { config, schema: { summary: 'Delete a link', tags, params: idParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.deleteLink(req.params.id, scopeOf(req), req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
