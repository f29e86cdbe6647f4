import { and, desc, eq, isNull } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { createApiKey } from '../keys.ts';
import { assertKeyScope, keyCreateBody, keyRateLimit } from '../schemas.ts';
import { API_ROLES, apiKeys } from '../../db/schema/auth.ts';
import { notFound } from '../../platform/http/errors.ts';
import { withExample, withResponseExample } from '../../platform/http/examples.ts';

const keyOut = z.object({
  id: z.uuid(),
  prefix: z.string(),
  role: z.enum(API_ROLES),
  seller_id: z.uuid().nullable(),
  allow_ips: z.array(z.string()),
  label: z.string().nullable(),
  rate_limit_per_min: z.number().int().nullable().meta({
    description: "requests a minute this key may make (null: its role's default; 0: no limit)",
  }),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
});

/** The key the examples in /docs show. */
const keyExample = {
  id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  prefix: 'cc_live_7Qm2',
  role: 'dialer' as const,
  seller_id: null,
  allow_ips: ['198.51.100.0/24'],
  label: 'VICIdial cluster A',
  rate_limit_per_min: 6000,
  created_at: '2026-11-02T15:04:05.000Z',
  revoked_at: null,
};

type Row = typeof apiKeys.$inferSelect;
const out = (r: Row) => ({
  id: r.id,
  prefix: r.prefix,
  role: r.role,
  seller_id: r.sellerId,
  allow_ips: r.allowIps,
  label: r.label,
  rate_limit_per_min: r.rateLimitPerMin,
  created_at: r.createdAt.toISOString(),
  revoked_at: r.revokedAt?.toISOString() ?? null,
});

/** Admin management of API keys. The clear key appears only in the create response. */
export default async function apiKeyRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { db } = app.deps.database;
  const admin = { auth: { roles: ['admin'] as const } };

  app.get(
    '/v1/whoami',
    {
      config: { auth: { roles: API_ROLES } },
      schema: {
        tags: ['auth'],
        summary: 'The calling key: role, seller, client IP as seen by the API',
        response: {
          200: withResponseExample(
            z.object({
              key_id: z.uuid(),
              role: z.enum(API_ROLES),
              seller_id: z.uuid().nullable(),
              ip: z.string(),
            }),
            {
              key_id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
              role: 'staff',
              seller_id: null,
              ip: '198.51.100.7',
            },
          ),
        },
      },
    },
    async (req) => ({
      key_id: req.principal!.keyId,
      role: req.principal!.role,
      seller_id: req.principal!.sellerId,
      ip: req.ip,
    }),
  );

  app.get(
    '/v1/api-keys',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: 'List API keys (never their secrets)',
        response: {
          200: withResponseExample(z.object({ items: z.array(keyOut) }), {
            items: [keyExample],
          }),
        },
      },
    },
    async () => ({ items: (await db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt))).map(out) }),
  );

  app.post(
    '/v1/api-keys',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: 'Create an API key; the key is returned once',
        body: withExample(keyCreateBody, {
          role: 'dialer',
          label: 'VICIdial cluster A',
          allow_ips: ['198.51.100.0/24'],
          rate_limit_per_min: 6000,
        }),
        response: {
          201: withResponseExample(keyOut.extend({ key: z.string() }), {
            ...keyExample,
            key: 'cc_live_7Qm2.example-only-secret',
          }),
        },
      },
    },
    async (req, reply) => {
      const b = req.body;
      assertKeyScope(b);
      const k = await createApiKey(db, {
        role: b.role,
        sellerId: b.seller_id ?? null,
        allowIps: b.allow_ips,
        label: b.label ?? null,
        rateLimitPerMin: b.rate_limit_per_min ?? null,
      });
      const [row] = await db.select().from(apiKeys).where(eq(apiKeys.id, k.id));
      return reply.status(201).send({ ...out(row!), key: k.key });
    },
  );

  app.patch(
    '/v1/api-keys/:id',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: "Change an API key's request limit",
        params: z.object({ id: z.uuid() }),
        body: withExample(z.object({ rate_limit_per_min: keyRateLimit }).strict(), {
          rate_limit_per_min: 1200,
        }),
        response: {
          200: withResponseExample(keyOut, {
            ...keyExample,
            rate_limit_per_min: 1200,
          }),
        },
      },
    },
    async (req) => {
      const [row] = await db
        .update(apiKeys)
        .set({ rateLimitPerMin: req.body.rate_limit_per_min })
        .where(and(eq(apiKeys.id, req.params.id), isNull(apiKeys.revokedAt)))
        .returning();
      if (!row) throw notFound('api key', req.params.id);
      app.deps.keys.invalidate();
      return out(row);
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config: admin,
      schema: {
        tags: ['auth'],
        summary: 'Revoke an API key',
        params: z.object({ id: z.uuid() }),
        response: {
          200: withResponseExample(keyOut, {
            ...keyExample,
            revoked_at: '2026-11-03T09:00:00.000Z',
          }),
        },
      },
    },
    async (req) => {
      const [row] = await db
        .update(apiKeys)
        .set({ revokedAt: new Date() })
        .where(and(eq(apiKeys.id, req.params.id), isNull(apiKeys.revokedAt)))
        .returning();
      if (!row) throw notFound('api key', req.params.id);
      app.deps.keys.invalidate();
      return out(row);
    },
  );
}
