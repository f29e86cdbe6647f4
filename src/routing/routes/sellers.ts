// /v1/sellers: sellers (lead generators), managed by admin/staff.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageBody } from '../../platform/http/paging.ts';
import { archivedFilter, sellerBody, sellersQuery, toSeller } from '../schemas.ts';
import { sellerArchiveDoc, sellerDoc } from '../examples.ts';
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
          summary: 'List sellers (lead sources), paged; archived ones only when asked (`archived=true|any`)',
          tags,
          querystring: sellersQuery,
          response: { 200: page(sellerDoc) },
        },
      },
      async (req) =>
        pageBody(
          req.query,
          await svc.listSellers({ ...req.query, archived: archivedFilter(req.query.archived) }),
          toSeller,
        ),
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
    app.post(
      '/v1/sellers/:id/archive',
      {
        config,
        schema: {
          summary:
            'Archive a seller: it routes nothing, its API keys are revoked and its console users disabled; its rows and calls stay',
          tags,
          params: idParams,
          response: { 200: sellerArchiveDoc },
        },
      },
      async (req) => {
        const r = await svc.archiveSeller(req.params.id, req.actor);
        // Its revoked keys stop at once here (other instances: within their key cache's TTL).
        app.deps.keys.invalidate();
        return {
          seller: toSeller(r.seller),
          revoked_api_keys: r.revokedKeys,
          disabled_console_users: r.disabledUsers,
        };
      },
    );
    app.post(
      '/v1/sellers/:id/restore',
      {
        config,
        schema: {
          summary: 'Restore an archived seller: its DIDs route again (keys stay revoked, users disabled)',
          tags,
          params: idParams,
          response: { 200: sellerDoc },
        },
      },
      async (req) => toSeller(await svc.restoreSeller(req.params.id, req.actor)),
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
