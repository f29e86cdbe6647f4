// Webhook subscriptions (/v1/webhooks): staff see and make any; a seller key makes and sees its own,
// which receive its own group's events only. The signing secret is shown once, at creation.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, orderFrom, pageBody } from '../../platform/http/paging.ts';
import {
  deliveriesDoc,
  testDeliveryDoc,
  webhookCreatedDoc,
  webhookPageDoc,
  webhookPausedDoc,
} from '../examples.ts';
import {
  deliveriesQuery,
  deliveryView,
  webhookIn,
  webhookPatch,
  webhooksQuery,
  webhookView,
} from '../schemas.ts';
import type { WebhookService } from '../webhooks/service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function webhookRoutes(hooks: WebhookService) {
  return async function webhooks(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['webhooks'];
    app.post(
      '/v1/webhooks',
      {
        config,
        schema: {
          summary: 'Subscribe a URL to events; the signing secret is returned once',
          tags,
          body: withExample(webhookIn, {
            url: 'https://hooks.example.com/capconduit',
            events: ['number.provisioned', 'job.completed'],
          }),
          response: {
            201: webhookCreatedDoc,
          },
        },
      },
      async (req, reply) => {
        const scope = scopeOf(req);
        const { row, secret } = await hooks.create(
          {
            url: req.body.url,
            events: req.body.events,
            sellerId: scope ?? req.body.seller_id ?? null,
          },
          req.actor,
        );
        return reply.status(201).send({ ...webhookView(row), secret });
      },
    );
    app.get(
      '/v1/webhooks',
      {
        config,
        schema: {
          summary: 'List webhook subscriptions, paged, filtered and sorted',
          tags,
          querystring: webhooksQuery,
          response: {
            200: webhookPageDoc,
          },
        },
      },
      async (req) => {
        const q = req.query;
        const rows = await hooks.list(scopeOf(req), {
          ...q,
          sellerId: q.seller_id === 'every' ? null : q.seller_id,
          order: orderFrom(q),
        });
        return pageBody(q, rows, webhookView);
      },
    );
    app.patch(
      '/v1/webhooks/:id',
      {
        config,
        schema: {
          summary: 'Pause or resume a subscription (an inactive one is sent no new events)',
          tags,
          params: idParams,
          body: withExample(webhookPatch, { active: false }),
          response: {
            200: webhookPausedDoc,
          },
        },
      },
      async (req) =>
        webhookView(await hooks.setActive(req.params.id, scopeOf(req), req.body.active, req.actor)),
    );
    app.delete(
      '/v1/webhooks/:id',
      {
        config,
        schema: {
          summary: 'Delete a webhook subscription',
          tags,
          params: idParams,
          response: { 204: z.null() },
        },
      },
      async (req, reply) => {
        await hooks.remove(req.params.id, scopeOf(req), req.actor);
        return reply.status(204).send(null);
      },
    );
    app.get(
      '/v1/webhooks/:id/deliveries',
      {
        config,
        schema: {
          summary: "A subscription's delivery log",
          tags,
          params: idParams,
          querystring: deliveriesQuery,
          response: { 200: deliveriesDoc },
        },
      },
      async (req) => ({
        items: (await hooks.deliveries(req.params.id, scopeOf(req), req.query.limit)).map(deliveryView),
      }),
    );
    app.post(
      '/v1/webhooks/:id/test',
      {
        config,
        schema: {
          summary: 'Send a test event to a subscription',
          tags,
          params: idParams,
          response: {
            202: testDeliveryDoc,
          },
        },
      },
      async (req, reply) =>
        reply.status(202).send({ delivery_id: await hooks.test(req.params.id, scopeOf(req)) }),
    );
  };
}
