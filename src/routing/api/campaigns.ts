import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../../platform/http/paging.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import type { Db } from '../../platform/db.ts';
import { queryBool } from '../../platform/http/input.ts';
import {
  campaigns,
  DUP_POLICIES,
  dids,
  links,
  ROUTING_STRATEGIES,
  sellers,
} from '../../db/schema/routing.ts';

const fields = {
  name: z.string().trim().min(1).max(200),
  strategy: z.enum(ROUTING_STRATEGIES).optional(),
  ring_timeout_s: z.number().int().min(1).max(600).optional(),
  max_attempts: z.number().int().min(1).max(20).optional(),
  dup_window_h: z
    .number()
    .int()
    .min(1)
    .max(24 * 90)
    .nullable()
    .optional(),
  dup_policy: z.enum(DUP_POLICIES).optional(),
  active: z.boolean().optional(),
};
const createBody = z.object({ seller_id: z.uuid().optional(), ...fields }).strict();
const patchBody = z.object(fields).partial().strict();
const out = z.object({
  id: z.uuid(),
  seller_id: z.uuid(),
  name: z.string(),
  strategy: z.enum(ROUTING_STRATEGIES),
  ring_timeout_s: z.number(),
  max_attempts: z.number(),
  dup_window_h: z.number().nullable(),
  dup_policy: z.enum(DUP_POLICIES),
  active: z.boolean(),
  created_at: z.string(),
});
type Row = typeof campaigns.$inferSelect;
const toOut = (r: Row) => ({
  id: r.id,
  seller_id: r.sellerId,
  name: r.name,
  strategy: r.strategy,
  ring_timeout_s: r.ringTimeoutS,
  max_attempts: r.maxAttempts,
  dup_window_h: r.dupWindowH,
  dup_policy: r.dupPolicy,
  active: r.active,
  created_at: r.createdAt.toISOString(),
});
const toRow = (b: z.infer<typeof patchBody>) => ({
  name: b.name,
  strategy: b.strategy,
  ringTimeoutS: b.ring_timeout_s,
  maxAttempts: b.max_attempts,
  dupWindowH: b.dup_window_h,
  dupPolicy: b.dup_policy,
  active: b.active,
});

/** A campaign visible to the caller, or 404 (another seller's campaign does not exist for you). */
export async function visibleCampaign(db: Db, id: string, scope: string | null): Promise<Row> {
  const where: SQL[] = [eq(campaigns.id, id)];
  if (scope) where.push(eq(campaigns.sellerId, scope));
  const [r] = await db
    .select()
    .from(campaigns)
    .where(and(...where));
  if (!r) throw notFound('campaign', id);
  return r;
}

/** Campaigns: a seller key manages its own; admin/staff manage all. */
export default async function campaignRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const config = { auth: { roles: STAFF_OR_SELLER } };
  const tags = ['campaigns'];

  app.get(
    '/v1/campaigns',
    {
      config,
      schema: {
        tags,
        querystring: pageQuery.extend({ seller_id: z.uuid().optional() }),
        response: { 200: page(out) },
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const scope = scopeOf(req) ?? req.query.seller_id;
      const where = scope ? eq(campaigns.sellerId, scope) : undefined;
      const rows = await db
        .select()
        .from(campaigns)
        .where(where)
        .orderBy(desc(campaigns.createdAt))
        .limit(limit)
        .offset(offset);
      const [t] = await db.select({ n: count() }).from(campaigns).where(where);
      return { items: rows.map(toOut), limit, offset, total: t!.n };
    },
  );

  app.get(
    '/v1/campaigns/:id',
    { config, schema: { tags, params: idParams, response: { 200: out } } },
    async (req) => toOut(await visibleCampaign(db, req.params.id, scopeOf(req))),
  );

  app.post(
    '/v1/campaigns',
    { config, schema: { tags, body: createBody, response: { 201: out } } },
    async (req, reply) => {
      const scope = scopeOf(req);
      const sellerId = scope ?? req.body.seller_id;
      if (!sellerId)
        throw new AppError('VALIDATION_FAILED', 'seller_id is required', [
          { path: 'seller_id', message: 'required' },
        ]);
      if (scope && req.body.seller_id && req.body.seller_id !== scope)
        throw notFound('seller', req.body.seller_id);
      const [s] = await db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, sellerId));
      if (!s) throw notFound('seller', sellerId);
      const [r] = await db
        .insert(campaigns)
        .values({ ...toRow(req.body), name: req.body.name, sellerId })
        .returning()
        .catch((e) => mapDbError(e, 'campaign'));
      return reply.status(201).send(toOut(r!));
    },
  );

  app.patch(
    '/v1/campaigns/:id',
    { config, schema: { tags, params: idParams, body: patchBody, response: { 200: out } } },
    async (req) => {
      await visibleCampaign(db, req.params.id, scopeOf(req));
      const [r] = await db
        .update(campaigns)
        .set(toRow(req.body))
        .where(eq(campaigns.id, req.params.id))
        .returning()
        .catch((e) => mapDbError(e, 'campaign'));
      return toOut(r!);
    },
  );

  app.delete(
    '/v1/campaigns/:id',
    {
      config,
      schema: {
        tags,
        params: idParams,
        querystring: z.object({ cascade: queryBool.default(false) }),
        response: { 204: z.null() },
      },
    },
    async (req, reply) => {
      await visibleCampaign(db, req.params.id, scopeOf(req));
      const [d] = await db.select({ n: count() }).from(dids).where(eq(dids.campaignId, req.params.id));
      const [l] = await db.select({ n: count() }).from(links).where(eq(links.campaignId, req.params.id));
      if ((d!.n || l!.n) && !req.query.cascade)
        throw new AppError(
          'IN_USE',
          'campaign has DIDs or links (delete with ?cascade=true to detach DIDs and remove links)',
          {
            dids: d!.n,
            links: l!.n,
          },
        );
      await db.transaction(async (tx) => {
        await tx.update(dids).set({ campaignId: null }).where(eq(dids.campaignId, req.params.id));
        await tx.delete(links).where(eq(links.campaignId, req.params.id));
        await tx.delete(campaigns).where(eq(campaigns.id, req.params.id));
      });
      return reply.status(204).send(null);
    },
  );
}
