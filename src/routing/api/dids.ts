import { and, count, desc, eq, type SQL } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../../platform/http/paging.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import { notFound } from '../../platform/http/errors.ts';
import type { Db } from '../../platform/db.ts';
import { dids, sellers } from '../../db/schema/routing.ts';
import { visibleCampaign } from './campaigns.ts';

/** E.164 form of a number written by an operator ("+1 (415) 555-0100", "14155550100"); null if invalid. */
export function toE164(raw: string, defaultCountry: 'US' = 'US'): string | null {
  const s = raw.trim();
  const p = parsePhoneNumberFromString(/^\d{11,15}$/.test(s) ? `+${s}` : s, defaultCountry);
  return p?.isValid() ? p.number : null;
}

const e164 = z.string().transform((s, ctx) => {
  const n = toE164(s);
  if (!n) ctx.addIssue({ code: 'custom', message: `"${s}" is not a valid phone number` });
  return n ?? s;
});
const out = z.object({
  id: z.uuid(),
  number: z.string(),
  seller_id: z.uuid(),
  campaign_id: z.uuid().nullable(),
  created_at: z.string(),
});
type Row = typeof dids.$inferSelect;
const toOut = (r: Row) => ({
  id: r.id,
  number: r.number,
  seller_id: r.sellerId,
  campaign_id: r.campaignId,
  created_at: r.createdAt.toISOString(),
});

async function visibleDid(db: Db, id: string, scope: string | null): Promise<Row> {
  const where: SQL[] = [eq(dids.id, id)];
  if (scope) where.push(eq(dids.sellerId, scope));
  const [r] = await db
    .select()
    .from(dids)
    .where(and(...where));
  if (!r) throw notFound('DID', id);
  return r;
}

/** DIDs: numbers owned by a seller, each attached to at most one campaign of the same seller. */
export default async function didRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const config = { auth: { roles: STAFF_OR_SELLER } };
  const tags = ['dids'];

  // The campaign must belong to the DID's seller (and be visible to the caller).
  const checkCampaign = async (
    campaignId: string | null | undefined,
    sellerId: string,
    scope: string | null,
  ) => {
    if (!campaignId) return;
    const c = await visibleCampaign(db, campaignId, scope);
    if (c.sellerId !== sellerId) throw notFound('campaign', campaignId);
  };

  app.get(
    '/v1/dids',
    {
      config,
      schema: {
        tags,
        querystring: pageQuery.extend({ campaign_id: z.uuid().optional() }),
        response: { 200: page(out) },
      },
    },
    async (req) => {
      const { limit, offset } = req.query;
      const where: SQL[] = [];
      const scope = scopeOf(req);
      if (scope) where.push(eq(dids.sellerId, scope));
      if (req.query.campaign_id) where.push(eq(dids.campaignId, req.query.campaign_id));
      const w = where.length ? and(...where) : undefined;
      const rows = await db
        .select()
        .from(dids)
        .where(w)
        .orderBy(desc(dids.createdAt))
        .limit(limit)
        .offset(offset);
      const [t] = await db.select({ n: count() }).from(dids).where(w);
      return { items: rows.map(toOut), limit, offset, total: t!.n };
    },
  );

  app.get(
    '/v1/dids/:id',
    { config, schema: { tags, params: idParams, response: { 200: out } } },
    async (req) => toOut(await visibleDid(db, req.params.id, scopeOf(req))),
  );

  app.post(
    '/v1/dids',
    {
      config,
      schema: {
        tags,
        body: z
          .object({
            number: e164,
            seller_id: z.uuid().optional(),
            campaign_id: z.uuid().nullable().optional(),
          })
          .strict(),
        response: { 201: out },
      },
    },
    async (req, reply) => {
      const scope = scopeOf(req);
      const sellerId = scope ?? req.body.seller_id;
      if (!sellerId || (scope && req.body.seller_id && req.body.seller_id !== scope))
        throw notFound('seller', req.body.seller_id ?? '');
      const [s] = await db.select({ id: sellers.id }).from(sellers).where(eq(sellers.id, sellerId));
      if (!s) throw notFound('seller', sellerId);
      await checkCampaign(req.body.campaign_id, sellerId, scope);
      const [r] = await db
        .insert(dids)
        .values({ number: req.body.number, sellerId, campaignId: req.body.campaign_id ?? null })
        .returning()
        .catch((e) => mapDbError(e, `DID ${req.body.number}`));
      return reply.status(201).send(toOut(r!));
    },
  );

  app.patch(
    '/v1/dids/:id',
    {
      config,
      schema: {
        tags,
        params: idParams,
        body: z.object({ campaign_id: z.uuid().nullable() }).strict(),
        response: { 200: out },
      },
    },
    async (req) => {
      const scope = scopeOf(req);
      const d = await visibleDid(db, req.params.id, scope);
      await checkCampaign(req.body.campaign_id, d.sellerId, scope);
      const [r] = await db
        .update(dids)
        .set({ campaignId: req.body.campaign_id })
        .where(eq(dids.id, d.id))
        .returning();
      return toOut(r!);
    },
  );

  app.delete(
    '/v1/dids/:id',
    { config, schema: { tags, params: idParams, response: { 204: z.null() } } },
    async (req, reply) => {
      const d = await visibleDid(db, req.params.id, scopeOf(req));
      await db.delete(dids).where(eq(dids.id, d.id));
      return reply.status(204).send(null);
    },
  );
}
