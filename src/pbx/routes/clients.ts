// /v1/pbx/clients/:id/endpoint: a client's endpoint (registration or IP), provisioned by staff.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { notFound } from '../../platform/http/errors.ts';
import { changeBody, clientEndpointBody, credentials, endpointOut, toEndpoint } from '../schemas.ts';
import { endpointDoc, endpointExample } from '../examples.ts';
import { withResponseExample } from '../../platform/http/examples.ts';
import type { EndpointService } from '../service/endpoints.ts';
import { actor } from './actor.ts';
import { withExample } from '../../platform/http/examples.ts';

export function clientEndpointRoutes(svc: EndpointService) {
  return async function clientEndpoints(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['pbx'];
    const params = z.object({ id: z.uuid() });

    app.post(
      '/v1/pbx/clients/:id/endpoint',
      {
        config,
        schema: {
          summary: "Create a client's PJSIP endpoint (realtime rows)",
          tags,
          params,
          body: withExample(clientEndpointBody, {
            kind: 'ip',
            ips: ['203.0.113.20/32'],
            contact: { host: 'pbx.sunrise.example.com', port: 5060 },
            options: { codecs: ['ulaw', 'alaw'] },
          }),
          response: {
            201: withResponseExample(endpointOut.extend({ credentials: credentials.nullable() }), {
              ...endpointExample,
              options: { ...endpointExample.options },
              ips: [...endpointExample.ips],
              credentials: null,
            }),
          },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const { record, credentials } = await svc.provisionClient(actor(req), req.params.id, {
          kind: b.kind,
          options: b.options,
          raw_options: b.raw_options,
          ...(b.kind === 'ip' ? { name: b.name, ips: b.ips, contact: b.contact } : {}),
        });
        return reply.status(201).send({ ...toEndpoint(record), credentials });
      },
    );
    app.get(
      '/v1/pbx/clients/:id/endpoint',
      {
        config,
        schema: {
          summary: "A client's PJSIP endpoint and its registration",
          tags,
          params,
          response: { 200: endpointDoc },
        },
      },
      async (req) => {
        const r = await svc.ofClient(req.params.id);
        if (!r) throw notFound('client endpoint', req.params.id);
        return toEndpoint(r);
      },
    );
    app.patch(
      '/v1/pbx/clients/:id/endpoint',
      {
        config,
        schema: {
          summary: "Change a client's PJSIP endpoint",
          tags,
          params,
          body: withExample(changeBody, { ips: ['203.0.113.20/32', '203.0.113.21/32'] }),
          response: { 200: endpointDoc },
        },
      },
      async (req) => toEndpoint(await svc.updateClient(actor(req), req.params.id, req.body)),
    );
    app.delete(
      '/v1/pbx/clients/:id/endpoint',
      {
        config,
        schema: { summary: "Delete a client's PJSIP endpoint", tags, params, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await svc.deprovisionClient(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
