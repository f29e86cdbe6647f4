import { count, desc, eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../../platform/http/paging.ts';
import { mapDbError } from '../../platform/pg-errors.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { queryBool } from '../../platform/http/input.ts';
import { clients, links, type WeeklySchedule } from '../../db/schema/routing.ts';
import { scheduleProblems } from '../decide.ts';

const tz = z.string().refine((t) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: t });
    return true;
  } catch {
    return false;
  }
}, 'unknown IANA time zone');
const range = z.tuple([z.string(), z.string()]);
const schedule = z
  .partialRecord(z.enum(['0', '1', '2', '3', '4', '5', '6']), z.array(range).max(10))
  .superRefine((s, ctx) => {
    for (const p of scheduleProblems(s as WeeklySchedule)) ctx.addIssue({ code: 'custom', message: p });
  });
// A PJSIP endpoint name, or a dial string Asterisk's Dial understands (Tech/resource).
const endpoint = z
  .string()
  .trim()
  .regex(
    /^([A-Za-z0-9_.+-]{1,80}|[A-Za-z]+\/[A-Za-z0-9_.+@:-]{1,120})$/,
    'a PJSIP endpoint name or a dial string like PJSIP/1000@trunk',
  );

const body = z
  .object({
    name: z.string().trim().min(1).max(200),
    endpoint,
    active: z.boolean().optional(),
    timezone: tz.nullable().optional(),
    schedule: schedule.nullable().optional(),
  })
  .strict();
const out = z.object({
  id: z.uuid(),
  name: z.string(),
  endpoint: z.string(),
  active: z.boolean(),
  timezone: z.string().nullable(),
  schedule: z.record(z.string(), z.array(range)).nullable(),
  created_at: z.string(),
});
const toOut = (r: typeof clients.$inferSelect) => ({
  id: r.id,
  name: r.name,
  endpoint: r.endpoint,
  active: r.active,
  timezone: r.timezone,
  schedule: (r.schedule ?? null) as Record<string, [string, string][]> | null,
  created_at: r.createdAt.toISOString(),
});
const values = <T extends Partial<z.infer<typeof body>>>(b: T) => ({
  ...b,
  schedule: b.schedule as WeeklySchedule | null | undefined,
});

/** Clients (call centres that buy calls). Managed by admin/staff. */
export default async function clientRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const config = { auth: { roles: STAFF } };
  const tags = ['clients'];

  app.get(
    '/v1/clients',
    { config, schema: { tags, querystring: pageQuery, response: { 200: page(out) } } },
    async (req) => {
      const { limit, offset } = req.query;
      const rows = await db
        .select()
        .from(clients)
        .orderBy(desc(clients.createdAt))
        .limit(limit)
        .offset(offset);
      const [t] = await db.select({ n: count() }).from(clients);
      return { items: rows.map(toOut), limit, offset, total: t!.n };
    },
  );

  app.get(
    '/v1/clients/:id',
    { config, schema: { tags, params: idParams, response: { 200: out } } },
    async (req) => {
      const [r] = await db.select().from(clients).where(eq(clients.id, req.params.id));
      if (!r) throw notFound('client', req.params.id);
      return toOut(r);
    },
  );

  app.post('/v1/clients', { config, schema: { tags, body, response: { 201: out } } }, async (req, reply) => {
    const [r] = await db
      .insert(clients)
      .values(values(req.body))
      .returning()
      .catch((e) => mapDbError(e, 'client'));
    return reply.status(201).send(toOut(r!));
  });

  app.patch(
    '/v1/clients/:id',
    { config, schema: { tags, params: idParams, body: body.partial(), response: { 200: out } } },
    async (req) => {
      const [r] = await db
        .update(clients)
        .set(values(req.body))
        .where(eq(clients.id, req.params.id))
        .returning()
        .catch((e) => mapDbError(e, 'client'));
      if (!r) throw notFound('client', req.params.id);
      return toOut(r);
    },
  );

  app.delete(
    '/v1/clients/:id',
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
      const [l] = await db.select({ n: count() }).from(links).where(eq(links.clientId, req.params.id));
      if (l!.n && !req.query.cascade)
        throw new AppError('IN_USE', 'client is linked to campaigns (delete with ?cascade=true to unlink)', {
          links: l!.n,
        });
      const gone = await db.transaction(async (tx) => {
        await tx.delete(links).where(eq(links.clientId, req.params.id));
        return tx.delete(clients).where(eq(clients.id, req.params.id)).returning({ id: clients.id });
      });
      if (!gone.length) throw notFound('client', req.params.id);
      return reply.status(204).send(null);
    },
  );
}
