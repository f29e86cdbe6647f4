// /v1/clients: clients (call centres that buy calls), managed by admin/staff.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageBody, pageQuery } from '../../platform/http/paging.ts';
import { cascadeQuery, clientBody, toClient } from '../schemas.ts';
import { clientDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function clientRoutes(svc: RoutingService) {
  return async function clients(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['clients'];

    app.get(
      '/v1/clients',
      {
        config,
        schema: {
          summary: 'List clients (call centres that take calls), paged',
          tags,
          querystring: pageQuery,
          response: { 200: page(clientDoc) },
        },
      },
      async (req) => pageBody(req.query, await svc.listClients(req.query), toClient),
    );
    app.get(
      '/v1/clients/:id',
      { config, schema: { summary: 'One client', tags, params: idParams, response: { 200: clientDoc } } },
      async (req) => toClient(await svc.client(req.params.id)),
    );
    app.post(
      '/v1/clients',
      {
        config,
        schema: {
          summary: 'Create a client: endpoint, time zone, business hours',
          tags,
          body: withExample(clientBody, {
            name: 'Sunrise Insurance Austin',
            endpoint: 'sunrise-austin',
            timezone: 'America/Chicago',
            schedule: {
              '1': [['08:00', '18:00']],
              '2': [['08:00', '18:00']],
              '3': [['08:00', '18:00']],
              '4': [['08:00', '18:00']],
              '5': [['08:00', '17:00']],
            },
          }),
          response: { 201: clientDoc },
        },
      },
      async (req, reply) => reply.status(201).send(toClient(await svc.createClient(req.body, req.actor))),
    );
    app.patch(
      '/v1/clients/:id',
      {
        config,
        schema: {
          summary: "Change a client's endpoint, schedule or group",
          tags,
          params: idParams,
          body: withExample(clientBody.partial(), { schedule: { '1': [['22:00', '06:00']] } }),
          response: { 200: clientDoc },
        },
      },
      async (req) => toClient(await svc.updateClient(req.params.id, req.body, req.actor)),
    );
    app.delete(
      '/v1/clients/:id',
      {
        config,
        schema: {
          summary: 'Delete a client (cascade=true also removes its links)',
          tags,
          params: idParams,
          querystring: cascadeQuery,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await svc.deleteClient(req.params.id, req.query.cascade, req.actor);
        return reply.status(204).send(null);
      },
    );
  };
}
