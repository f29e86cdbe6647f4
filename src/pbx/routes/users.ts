// /v1/pbx/users: PBX users with their extensions, managed by staff.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF } from '../../platform/http/auth.ts';
import { notFound } from '../../platform/http/errors.ts';
import { idParams, orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { credentials, toUser, userBody, userOut, usersQuery } from '../schemas.ts';
import { userDoc, userExample } from '../examples.ts';
import { withResponseExample } from '../../platform/http/examples.ts';
import type { UserService } from '../service/users.ts';
import { actor } from './actor.ts';
import { withExample } from '../../platform/http/examples.ts';

export function userRoutes(svc: UserService) {
  return async function users(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF } };
    const tags = ['pbx'];

    app.post(
      '/v1/pbx/users',
      {
        config,
        schema: {
          summary: 'Create a SIP user; the credentials are returned once',
          tags,
          body: withExample(userBody, { name: 'Dana Agent', email: 'dana@example.com' }),
          response: {
            201: withResponseExample(userOut.extend({ credentials }), {
              ...userExample,
              credentials: { username: '1001', password: 'example-only-9pLrZq8v3KfT' },
            }),
          },
        },
      },
      async (req, reply) => {
        const { user, credentials } = await svc.create(actor(req), req.body);
        return reply.status(201).send({ ...toUser(user), credentials });
      },
    );
    app.get(
      '/v1/pbx/users',
      {
        config,
        schema: {
          summary:
            'List SIP users, paged, sorted and filtered (q: part of the name or email, or the start of the extension)',
          tags,
          querystring: usersQuery,
          response: { 200: page(userDoc) },
        },
      },
      async (req) =>
        pageBody(req.query, await svc.list({ ...req.query, order: orderFrom(req.query) }), toUser),
    );
    app.get(
      '/v1/pbx/users/:id',
      {
        config,
        schema: {
          summary: 'One SIP user (never its password)',
          tags,
          params: idParams,
          response: { 200: userDoc },
        },
      },
      async (req) => {
        const u = await svc.get(req.params.id);
        if (!u) throw notFound('user', req.params.id);
        return toUser(u);
      },
    );
    app.delete(
      '/v1/pbx/users/:id',
      {
        config,
        schema: { summary: 'Delete a SIP user', tags, params: idParams, response: { 204: z.null() } },
      },
      async (req, reply) => {
        await svc.delete(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
