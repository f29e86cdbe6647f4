import { and, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams } from '../../platform/http/paging.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import { notFound } from '../../platform/http/errors.ts';
import { campaigns, clients, links } from '../../db/schema/routing.ts';
import { visibleCampaign } from './campaigns.ts';

const capField = z.number().int().min(0).max(1_000_000).nullable().optional();
const fields = {
  concurrency_cap: capField,
  hourly_cap: capField,
  daily_cap: capField,
  monthly_cap: capField,
  total_cap: capField,
  priority: z.number().int().min(0).max(1000).optional(),
  weight: z.number().int().min(1).max(10_000).optional(),
  active: z.boolean().optional(),
};
const createBody = z.object({ client_id: z.uuid(), ...fields }).strict();
const patchBody = z.object(fields).strict();
const cap = z.number().nullable();
const out = z.object({
  id: z.uuid(),
  campaign_id: z.uuid(),
  client_id: z.uuid(),
  concurrency_cap: cap,
  hourly_cap: cap,
  daily_cap: cap,
  monthly_cap: cap,
  total_cap: cap,
  priority: z.number(),
  weight: z.number(),
  active: z.boolean(),
  total_answered: z.number(),
});
type Row = typeof links.$inferSelect;
const toOut = (r: Row) => ({
  id: r.id,
  campaign_id: r.campaignId,
  client_id: r.clientId,
  concurrency_cap: r.concurrencyCap,
  hourly_cap: r.hourlyCap,
  daily_cap: r.dailyCap,
  monthly_cap: r.monthlyCap,
  total_cap: r.totalCap,
  priority: r.priority,
  weight: r.weight,
  active: r.active,
  total_answered: r.totalAnswered,
});
const toRow = (b: z.infer<typeof patchBody>) => ({
  concurrencyCap: b.concurrency_cap,
  hourlyCap: b.hourly_cap,
  dailyCap: b.daily_cap,
  monthlyCap: b.monthly_cap,
  totalCap: b.total_cap,
  priority: b.priority,
  weight: b.weight,
  active: b.active,
});

/** Campaign-client links with their caps. A seller manages the links of its own campaigns. */
export default async function linkRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const config = { auth: { roles: STAFF_OR_SELLER } };
  const tags = ['links'];

  const visibleLink = async (id: string, scope: string | null) => {
    const [r] = await db
      .select({ link: links, sellerId: campaigns.sellerId })
      .from(links)
      .innerJoin(campaigns, eq(campaigns.id, links.campaignId))
      .where(eq(links.id, id));
    if (!r || (scope && r.sellerId !== scope)) throw notFound('link', id);
    return r.link;
  };

  app.get(
    '/v1/campaigns/:id/links',
    { config, schema: { tags, params: idParams, response: { 200: z.object({ items: z.array(out) }) } } },
    async (req) => {
      await visibleCampaign(db, req.params.id, scopeOf(req));
      return {
        items: (
          await db.select().from(links).where(eq(links.campaignId, req.params.id)).orderBy(links.priority)
        ).map(toOut),
      };
    },
  );

  app.post(
    '/v1/campaigns/:id/links',
    { config, schema: { tags, params: idParams, body: createBody, response: { 201: out } } },
    async (req, reply) => {
      await visibleCampaign(db, req.params.id, scopeOf(req));
      const [c] = await db.select({ id: clients.id }).from(clients).where(eq(clients.id, req.body.client_id));
      if (!c) throw notFound('client', req.body.client_id);
      const [r] = await db
        .insert(links)
        .values({ ...toRow(req.body), campaignId: req.params.id, clientId: req.body.client_id })
        .returning()
        .catch((e) => mapDbError(e, 'link of this client to this campaign'));
      return reply.status(201).send(toOut(r!));
    },
  );

  app.get(
    '/v1/links/:id',
    { config, schema: { tags, params: idParams, response: { 200: out } } },
    async (req) => toOut(await visibleLink(req.params.id, scopeOf(req))),
  );

  app.patch(
    '/v1/links/:id',
    { config, schema: { tags, params: idParams, body: patchBody, response: { 200: out } } },
    async (req) => {
      const l = await visibleLink(req.params.id, scopeOf(req));
      const [r] = await db
        .update(links)
        .set(toRow(req.body))
        .where(and(eq(links.id, l.id)))
        .returning();
      return toOut(r!);
    },
  );

  app.delete(
    '/v1/links/:id',
    { config, schema: { tags, params: idParams, response: { 204: z.null() } } },
    async (req, reply) => {
      const l = await visibleLink(req.params.id, scopeOf(req));
      await db.delete(links).where(eq(links.id, l.id));
      return reply.status(204).send(null);
    },
  );
}
