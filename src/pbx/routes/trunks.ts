// /v1/pbx/trunks: seller trunks. Sellers may look at their own; only staff provisions.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF, STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { notFound } from '../../platform/http/errors.ts';
import { idParams, page, pageBody } from '../../platform/http/paging.ts';
import { changeBody, toEndpoint, trunkBody, trunksQuery } from '../schemas.ts';
import { endpointDoc } from '../examples.ts';
import type { TrunkService } from '../service/trunks.ts';
import { actor } from './actor.ts';
import { withExample } from '../../platform/http/examples.ts';

export function trunkRoutes(svc: TrunkService) {
  return async function trunks(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const staff = { auth: { roles: STAFF } };
    const staffOrSeller = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['pbx'];

    app.post(
      '/v1/pbx/trunks',
      {
        config: staff,
        schema: {
          summary: "Create a seller's SIP trunk (IP-matched or registering)",
          tags,
          body: withExample(trunkBody, {
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            name: 'acme-trunk',
            ips: ['203.0.113.10/32'],
            options: { codecs: ['ulaw'] },
          }),
          response: { 201: endpointDoc },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const r = await svc.create(actor(req), {
          sellerId: b.seller_id,
          name: b.name,
          ips: b.ips,
          options: b.options,
          raw_options: b.raw_options,
        });
        return reply.status(201).send(toEndpoint(r));
      },
    );
    app.get(
      '/v1/pbx/trunks',
      {
        config: staffOrSeller,
        schema: {
          summary: 'List seller trunks, paged',
          tags,
          querystring: trunksQuery,
          response: { 200: page(endpointDoc) },
        },
      },
      async (req) => {
        const { limit, offset, seller_id } = req.query;
        const r = await svc.list({ limit, offset, sellerId: scopeOf(req) ?? seller_id });
        return pageBody(req.query, r, toEndpoint);
      },
    );
    app.get(
      '/v1/pbx/trunks/:id',
      {
        config: staffOrSeller,
        schema: { summary: 'One seller trunk', tags, params: idParams, response: { 200: endpointDoc } },
      },
      async (req) => {
        const r = await svc.get(req.params.id, scopeOf(req));
        if (!r) throw notFound('trunk', req.params.id);
        return toEndpoint(r);
      },
    );
    app.patch(
      '/v1/pbx/trunks/:id',
      {
        config: staff,
        schema: {
          summary: 'Change a seller trunk',
          tags,
          params: idParams,
          body: withExample(
            changeBody.refine((b) => b.contact === undefined, 'trunks have no contact'),
            { ips: ['203.0.113.10/32', '203.0.113.11/32'] },
          ),
          response: { 200: endpointDoc },
        },
      },
      async (req) => toEndpoint(await svc.update(actor(req), req.params.id, req.body)),
    );
    app.delete(
      '/v1/pbx/trunks/:id',
      {
        config: staff,
        schema: { summary: 'Delete a seller trunk', tags, params: idParams, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await svc.delete(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
