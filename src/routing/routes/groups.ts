// /v1/buyer-groups: clients that are one company (several sites), with caps shared by the group on
// top of each client's own; managed by admin/staff like clients.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageBody, pageQuery } from '../../platform/http/paging.ts';
import { cascadeQuery, groupBody, toGroup } from '../schemas.ts';
import { groupDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function groupRoutes(svc: RoutingService) {
  return async function groups(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['buyer groups'];

    app.get(
      '/v1/buyer-groups',
      {
        config,
        schema: {
          summary: 'List buyer groups (clients sharing caps), paged',
          tags,
          querystring: pageQuery,
          response: { 200: page(groupDoc) },
        },
      },
      async (req) => pageBody(req.query, await svc.listGroups(req.query), toGroup),
    );
    app.get(
      '/v1/buyer-groups/:id',
      { config, schema: { summary: 'One buyer group', tags, params: idParams, response: { 200: groupDoc } } },
      async (req) => toGroup(await svc.group(req.params.id)),
    );
    app.post(
      '/v1/buyer-groups',
      {
        config,
        schema: {
          summary: 'Create a buyer group with caps shared by its clients',
          tags,
          body: withExample(groupBody, {
            name: 'Sunrise Insurance (all sites)',
            timezone: 'America/Chicago',
            concurrency_cap: 60,
            daily_cap: 1200,
          }),
          response: { 201: groupDoc },
        },
      },
      async (req, reply) => reply.status(201).send(toGroup(await svc.createGroup(req.body, req.actor))),
    );
    app.patch(
      '/v1/buyer-groups/:id',
      {
        config,
        schema: {
          summary: "Change a buyer group's name or caps",
          tags,
          params: idParams,
          body: withExample(groupBody.partial(), { daily_cap: 1500 }),
          response: { 200: groupDoc },
        },
      },
      async (req) => toGroup(await svc.updateGroup(req.params.id, req.body, req.actor)),
    );
    app.delete(
      '/v1/buyer-groups/:id',
      {
        config,
        schema: {
          summary: 'Delete a buyer group (cascade=true detaches its clients)',
          tags,
          params: idParams,
          querystring: cascadeQuery,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await svc.deleteGroup(req.params.id, req.query.cascade, req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
