// /v1/whoami and the admins' /v1/api-keys: thin plugins over the key store (keys.ts).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { API_ROLES } from '../../db/schema/auth.ts';
import { keyExample } from '../examples.ts';
import { apiKeyRow, apiKeyRows, createApiKey, revokeKeyRow, setKeyRateLimit } from '../keys.ts';
import { assertKeyScope, keyCreateBody, keyInput, keyOut, keyRateLimit, toKeyOut } from '../schemas.ts';
import { notFound } from '../../platform/http/errors.ts';
import { withExample, withResponseExample } from '../../platform/http/examples.ts';

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
    async () => ({ items: (await apiKeyRows(db)).map(toKeyOut) }),
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
      const k = await createApiKey(db, keyInput(b));
      const row = await apiKeyRow(db, k.id);
      return reply.status(201).send({ ...toKeyOut(row!), key: k.key });
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
      const row = await setKeyRateLimit(db, req.params.id, req.body.rate_limit_per_min);
      if (!row) throw notFound('api key', req.params.id);
      app.deps.keys.invalidate();
      return toKeyOut(row);
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
      const row = await revokeKeyRow(db, req.params.id);
      if (!row) throw notFound('api key', req.params.id);
      app.deps.keys.invalidate();
      return toKeyOut(row);
    },
  );
}
