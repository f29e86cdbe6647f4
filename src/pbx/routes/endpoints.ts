// /v1/pbx/endpoints: everything provisioned (client endpoints, trunks, users' endpoints), read-only.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { endpointsQuery, toEndpoint } from '../schemas.ts';
import { endpointDoc } from '../examples.ts';
import type { EndpointService } from '../service/endpoints.ts';

export function endpointRoutes(svc: EndpointService) {
  return async function endpoints(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/pbx/endpoints',
      {
        config: { auth: { roles: STAFF } },
        schema: {
          summary:
            'All PJSIP endpoints with their registration state, paged, sorted and filtered (q: part of the name, SIP username or owner)',
          tags: ['pbx'],
          querystring: endpointsQuery,
          response: { 200: page(endpointDoc) },
        },
      },
      async (req) =>
        pageBody(req.query, await svc.list({ ...req.query, order: orderFrom(req.query) }), toEndpoint),
    );
  };
}
