// /v1/pbx/*: client endpoints, seller trunks, PBX users, the provisioned endpoints, apply, audit.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF, STAFF_OR_SELLER, scopeOf } from '../platform/http/auth.ts';
import { idParams, page, pageQuery } from '../platform/http/paging.ts';
import { notFound } from '../platform/http/errors.ts';
import { timestamp } from '../platform/http/input.ts';
import { parseCidr } from '../auth/cidr.ts';
import { PBX_ENDPOINT_KINDS } from '../db/schema/pbx.ts';
import { endpointOptions, rawOptions } from './options.ts';
import type { Actor, EndpointRecord, PbxService, UserRecord } from './service.ts';

const actor = (req: FastifyRequest): Actor => ({ keyId: req.principal?.keyId ?? null });

const cidr = z
  .string()
  .transform((s, ctx) => {
    const n = parseCidr(s);
    if (!n) ctx.addIssue({ code: 'custom', message: 'an IPv4/IPv6 address or CIDR' });
    return n ?? s;
  })
  .pipe(z.string().max(80));
const ips = z.array(cidr).min(1).max(32);
const endpointName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,39}$/, 'a letter, then letters, digits, _ . - (max 40)');
const host = z
  .string()
  .regex(
    /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$|^\[[0-9A-Fa-f:.]+\]$/,
    'a host name, an IPv4 address or a bracketed IPv6 address',
  )
  .max(200);

const clientEndpointBody = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('registration'),
      options: endpointOptions.default({}),
      raw_options: rawOptions.default({}),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ip'),
      name: endpointName.optional(),
      ips,
      contact: z.object({ host, port: z.number().int().min(1).max(65535).default(5060) }).strict(),
      options: endpointOptions.default({}),
      raw_options: rawOptions.default({}),
    })
    .strict(),
]);

const trunkBody = z
  .object({
    seller_id: z.uuid(),
    name: endpointName.optional(),
    ips,
    options: endpointOptions.default({}),
    raw_options: rawOptions.default({}),
  })
  .strict();

const changeBody = z
  .object({
    options: endpointOptions.optional(),
    raw_options: rawOptions.optional(),
    ips: ips.optional(),
    contact: z
      .object({ host, port: z.number().int().min(1).max(65535).default(5060) })
      .strict()
      .optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change');

const endpointOut = z.object({
  id: z.uuid(),
  endpoint: z.string(),
  kind: z.enum(PBX_ENDPOINT_KINDS),
  client_id: z.uuid().nullable(),
  seller_id: z.uuid().nullable(),
  user_id: z.uuid().nullable(),
  username: z.string().nullable(),
  options: z.record(z.string(), z.unknown()),
  ips: z.array(z.string()),
  contact: z.string().nullable(),
  created_at: z.string(),
});
const credentials = z.object({ username: z.string(), password: z.string() });
const toEndpoint = (r: EndpointRecord) => ({
  id: r.id,
  endpoint: r.endpoint,
  kind: r.kind,
  client_id: r.clientId,
  seller_id: r.sellerId,
  user_id: r.userId,
  username: r.username,
  options: r.options,
  ips: r.ips,
  contact: r.contact,
  created_at: r.createdAt.toISOString(),
});

const userOut = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  extension: z.number(),
  endpoint: z.string(),
  created_at: z.string(),
});
const toUser = (u: UserRecord) => ({
  id: u.id,
  name: u.name,
  email: u.email,
  extension: u.extension,
  endpoint: String(u.extension),
  created_at: u.createdAt.toISOString(),
});

const checkOut = z.object({ endpoint: z.string(), visible: z.boolean(), reason: z.string().nullable() });
const applyOut = z.object({
  triggered_by: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  ok: z.boolean(),
  endpoints: z.number(),
  nodes: z.array(
    z.object({
      node: z.string(),
      reachable: z.boolean(),
      error: z.string().nullable(),
      reload: z.object({ ok: z.boolean(), message: z.string() }).nullable(),
      endpoints: z.array(checkOut),
    }),
  ),
});

const auditOut = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.object({ key_id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string(),
  target: z.string().nullable(),
  result: z.enum(['ok', 'error']),
  detail: z.record(z.string(), z.unknown()).nullable(),
});

export function pbxRoutes(svc: PbxService) {
  return async function routes(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const staff = { auth: { roles: STAFF } };
    const tags = ['pbx'];

    // ---- client endpoints
    const clientParams = z.object({ id: z.uuid() });
    app.post(
      '/v1/pbx/clients/:id/endpoint',
      {
        config: staff,
        schema: {
          tags,
          params: clientParams,
          body: clientEndpointBody,
          response: { 201: endpointOut.extend({ credentials: credentials.nullable() }) },
        },
      },
      async (req, reply) => {
        const b = req.body;
        const { record, credentials } = await svc.provisionClient(actor(req), req.params.id, {
          kind: b.kind,
          options: b.options,
          raw_options: b.raw_options,
          ...(b.kind === 'ip' ? { name: b.name, ips: b.ips, contact: b.contact } : {}),
        });
        return reply.status(201).send({ ...toEndpoint(record), credentials });
      },
    );
    app.get(
      '/v1/pbx/clients/:id/endpoint',
      { config: staff, schema: { tags, params: clientParams, response: { 200: endpointOut } } },
      async (req) => {
        const r = await svc.clientEndpoint(req.params.id);
        if (!r) throw notFound('client endpoint', req.params.id);
        return toEndpoint(r);
      },
    );
    app.patch(
      '/v1/pbx/clients/:id/endpoint',
      {
        config: staff,
        schema: { tags, params: clientParams, body: changeBody, response: { 200: endpointOut } },
      },
      async (req) => toEndpoint(await svc.updateClientEndpoint(actor(req), req.params.id, req.body)),
    );
    app.delete(
      '/v1/pbx/clients/:id/endpoint',
      { config: staff, schema: { tags, params: clientParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.deprovisionClient(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );

    // ---- seller trunks (sellers may look at their own; only staff provisions)
    app.post(
      '/v1/pbx/trunks',
      { config: staff, schema: { tags, body: trunkBody, response: { 201: endpointOut } } },
      async (req, reply) => {
        const b = req.body;
        const r = await svc.createTrunk(actor(req), {
          sellerId: b.seller_id,
          name: b.name,
          ips: b.ips,
          options: b.options,
          raw_options: b.raw_options,
        });
        return reply.status(201).send(toEndpoint(r));
      },
    );
    app.get(
      '/v1/pbx/trunks',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: {
          tags,
          querystring: pageQuery.extend({ seller_id: z.uuid().optional() }),
          response: { 200: page(endpointOut) },
        },
      },
      async (req) => {
        const { limit, offset, seller_id } = req.query;
        const scope = scopeOf(req);
        const r = await svc.listTrunks({ limit, offset, sellerId: scope ?? seller_id });
        return { items: r.items.map(toEndpoint), limit, offset, total: r.total };
      },
    );
    app.get(
      '/v1/pbx/trunks/:id',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: { tags, params: idParams, response: { 200: endpointOut } },
      },
      async (req) => {
        const r = await svc.trunk(req.params.id, scopeOf(req));
        if (!r) throw notFound('trunk', req.params.id);
        return toEndpoint(r);
      },
    );
    app.patch(
      '/v1/pbx/trunks/:id',
      {
        config: staff,
        schema: {
          tags,
          params: idParams,
          body: changeBody.refine((b) => b.contact === undefined, 'trunks have no contact'),
          response: { 200: endpointOut },
        },
      },
      async (req) => toEndpoint(await svc.updateTrunk(actor(req), req.params.id, req.body)),
    );
    app.delete(
      '/v1/pbx/trunks/:id',
      { config: staff, schema: { tags, params: idParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.deleteTrunk(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );

    // ---- PBX users
    app.post(
      '/v1/pbx/users',
      {
        config: staff,
        schema: {
          tags,
          body: z.object({ name: z.string().trim().min(1).max(100), email: z.email().max(254) }).strict(),
          response: { 201: userOut.extend({ credentials }) },
        },
      },
      async (req, reply) => {
        const { user, credentials } = await svc.createUser(actor(req), req.body);
        return reply.status(201).send({ ...toUser(user), credentials });
      },
    );
    app.get(
      '/v1/pbx/users',
      { config: staff, schema: { tags, querystring: pageQuery, response: { 200: page(userOut) } } },
      async (req) => {
        const { limit, offset } = req.query;
        const r = await svc.listUsers({ limit, offset });
        return { items: r.items.map(toUser), limit, offset, total: r.total };
      },
    );
    app.get(
      '/v1/pbx/users/:id',
      { config: staff, schema: { tags, params: idParams, response: { 200: userOut } } },
      async (req) => {
        const u = await svc.user(req.params.id);
        if (!u) throw notFound('user', req.params.id);
        return toUser(u);
      },
    );
    app.delete(
      '/v1/pbx/users/:id',
      { config: staff, schema: { tags, params: idParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.deleteUser(actor(req), req.params.id);
        return reply.status(204).send(null);
      },
    );

    // ---- everything provisioned
    app.get(
      '/v1/pbx/endpoints',
      {
        config: staff,
        schema: {
          tags,
          querystring: pageQuery.extend({ kind: z.enum(PBX_ENDPOINT_KINDS).optional() }),
          response: { 200: page(endpointOut) },
        },
      },
      async (req) => {
        const { limit, offset, kind } = req.query;
        const r = await svc.listEndpoints({ limit, offset, kind });
        return { items: r.items.map(toEndpoint), limit, offset, total: r.total };
      },
    );

    // ---- apply
    app.post(
      '/v1/pbx/apply',
      {
        config: staff,
        schema: {
          tags,
          body: z.object({ triggered_by: z.string().trim().min(1).max(200) }).strict(),
          response: { 200: applyOut },
        },
      },
      async (req) => svc.apply(actor(req), req.body.triggered_by),
    );

    // ---- audit
    app.get(
      '/v1/pbx/audit',
      {
        config: staff,
        schema: {
          tags,
          querystring: pageQuery.extend({
            action: z.string().max(64).optional(),
            result: z.enum(['ok', 'error']).optional(),
            target: z.string().max(255).optional(),
            actor_key_id: z.uuid().optional(),
            from: timestamp.optional(),
            to: timestamp.optional(),
          }),
          response: { 200: page(auditOut) },
        },
      },
      async (req) => {
        const q = req.query;
        const r = await svc.listAudit({
          ...q,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        });
        return {
          items: r.items.map((a) => ({
            id: a.id,
            at: a.at.toISOString(),
            actor: { key_id: a.actorKeyId, label: a.actorLabel },
            action: a.action,
            target: a.target,
            result: a.result,
            detail: a.detail ?? null,
          })),
          limit: q.limit,
          offset: q.offset,
          total: r.total,
        };
      },
    );
  };
}
