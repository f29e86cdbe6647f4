import { count, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../../platform/http/paging.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { campaigns, dids, sellers } from '../../db/schema/routing.ts';

const out = z.object({ id: z.uuid(), name: z.string(), active: z.boolean(), created_at: z.string() });
const body = z.object({ name: z.string().trim().min(1).max(200), active: z.boolean().optional() }).strict();
const toOut = (r: typeof sellers.$inferSelect) => ({
  id: r.id,
  name: r.name,
  active: r.active,
  created_at: r.createdAt.toISOString(),
});

/** Sellers (lead generators). Managed by admin/staff. */
export default async function sellerRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const config = { auth: { roles: STAFF } };
  const tags = ['sellers'];

  app.get(
    '/v1/sellers',
    { config, schema: { tags, querystring: pageQuery, response: { 200: page(out) } } },
    async (req) => {
      const { limit, offset } = req.query;
      const rows = await db
        .select()
        .from(sellers)
        .orderBy(desc(sellers.createdAt))
        .limit(limit)
        .offset(offset);
      const [t] = await db.select({ n: count() }).from(sellers);
      return { items: rows.map(toOut), limit, offset, total: t!.n };
    },
  );

  app.get(
    '/v1/sellers/:id',
    { config, schema: { tags, params: idParams, response: { 200: out } } },
    async (req) => {
      const [r] = await db.select().from(sellers).where(eq(sellers.id, req.params.id));
      if (!r) throw notFound('seller', req.params.id);
      return toOut(r);
    },
  );

  app.post('/v1/sellers', { config, schema: { tags, body, response: { 201: out } } }, async (req, reply) => {
    const [r] = await db
      .insert(sellers)
      .values(req.body)
      .returning()
      .catch((e) => mapDbError(e, 'seller'));
    return reply.status(201).send(toOut(r!));
  });

  app.patch(
    '/v1/sellers/:id',
    { config, schema: { tags, params: idParams, body: body.partial(), response: { 200: out } } },
    async (req) => {
      const [r] = await db
        .update(sellers)
        .set(req.body)
        .where(eq(sellers.id, req.params.id))
        .returning()
        .catch((e) => mapDbError(e, 'seller'));
      if (!r) throw notFound('seller', req.params.id);
      return toOut(r);
    },
  );

  app.delete(
    '/v1/sellers/:id',
    { config, schema: { tags, params: idParams, response: { 204: z.null() } } },
    async (req, reply) => {
      // Refuse while campaigns or DIDs belong to the seller: their calls and reports would lose an owner.
      const [c] = await db
        .select({ n: count() })
        .from(campaigns)
        .where(eq(campaigns.sellerId, req.params.id));
      const [d] = await db.select({ n: count() }).from(dids).where(eq(dids.sellerId, req.params.id));
      if (c!.n || d!.n)
        throw new AppError('IN_USE', 'seller still owns campaigns or DIDs', { campaigns: c!.n, dids: d!.n });
      const r = await db.delete(sellers).where(eq(sellers.id, req.params.id)).returning({ id: sellers.id });
      if (!r.length) throw notFound('seller', req.params.id);
      return reply.status(204).send(null);
    },
  );
}
