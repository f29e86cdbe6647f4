// Webhook subscriptions (/v1/webhooks): staff see and make any; a seller key makes and sees its own,
// which receive its own group's events only. The signing secret is shown once, at creation.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { webhookIn, webhookPatch, webhooksQuery } from '../schemas.ts';
import type { Subscription, WebhookService } from '../webhooks/service.ts';
import { withExample, withResponseExample } from '../../platform/http/examples.ts';

const subOut = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  seller_id: z.uuid().nullable(),
  active: z.boolean(),
  created_at: z.string(),
});
const view = (s: Subscription) => ({
  id: s.id,
  url: s.url,
  events: s.events,
  seller_id: s.sellerId,
  active: s.active,
  created_at: s.createdAt.toISOString(),
});

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
            201: withResponseExample(subOut.extend({ secret: z.string() }), {
              id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
              url: 'https://hooks.example.com/capconduit',
              events: ['number.provisioned', 'job.completed'],
              seller_id: null,
              active: true,
              created_at: '2026-11-02T15:04:05.000Z',
              secret: 'whsec_example-only-3kPq9',
            }),
          },
        },
      },
      async (req, reply) => {
        const scope = scopeOf(req);
        const { row, secret } = await hooks.create({
          url: req.body.url,
          events: req.body.events,
          sellerId: scope ?? req.body.seller_id ?? null,
        });
        return reply.status(201).send({ ...view(row), secret });
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
            200: withResponseExample(page(subOut), {
              items: [
                {
                  id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
                  url: 'https://hooks.example.com/capconduit',
                  events: ['number.provisioned', 'job.completed'],
                  seller_id: null,
                  active: true,
                  created_at: '2026-11-02T15:04:05.000Z',
                },
              ],
              limit: 50,
              offset: 0,
              total: 1,
            }),
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
        return pageBody(q, rows, view);
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
            200: withResponseExample(subOut, {
              id: 'a7b8c9d0-e1f2-4a3b-8c4d-5e6f7a8b9c0d',
              url: 'https://hooks.example.com/capconduit',
              events: ['number.provisioned', 'job.completed'],
              seller_id: null,
              active: false,
              created_at: '2026-11-02T15:04:05.000Z',
            }),
          },
        },
      },
      async (req) => view(await hooks.setActive(req.params.id, scopeOf(req), req.body.active)),
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
        await hooks.remove(req.params.id, scopeOf(req));
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
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
          response: {
            200: withResponseExample(
              z.object({
                items: z.array(
                  z.object({
                    id: z.number(),
                    event: z.string(),
                    event_id: z.uuid(),
                    status: z.string(),
                    attempts: z.number(),
                    last_status: z.number().nullable(),
                    last_error: z.string().nullable(),
                    created_at: z.string(),
                    delivered_at: z.string().nullable(),
                  }),
                ),
              }),
              {
                items: [
                  {
                    id: 9001,
                    event: 'job.completed',
                    event_id: 'b8c9d0e1-f2a3-4b4c-9d5e-6f7a8b9c0d1e',
                    status: 'delivered',
                    attempts: 2,
                    last_status: 200,
                    last_error: null,
                    created_at: '2026-11-02T15:04:05.000Z',
                    delivered_at: '2026-11-02T15:04:35.000Z',
                  },
                ],
              },
            ),
          },
        },
      },
      async (req) => ({
        items: (await hooks.deliveries(req.params.id, scopeOf(req), req.query.limit)).map((d) => ({
          id: d.id,
          event: d.event,
          event_id: d.eventId,
          status: d.status,
          attempts: d.attempts,
          last_status: d.lastStatus,
          last_error: d.lastError,
          created_at: d.createdAt.toISOString(),
          delivered_at: d.deliveredAt?.toISOString() ?? null,
        })),
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
            202: withResponseExample(z.object({ delivery_id: z.number() }), { delivery_id: 9002 }),
          },
        },
      },
      async (req, reply) =>
        reply.status(202).send({ delivery_id: await hooks.test(req.params.id, scopeOf(req)) }),
    );
  };
}
