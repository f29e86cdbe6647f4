// The PBX resources' request and response shapes (zod), and the records as the API shows them.
import { z } from 'zod';
import { parseCidr } from '../auth/cidr.ts';
import { PBX_ENDPOINT_KINDS, type pbxAudit } from '../db/schema/pbx.ts';
import { timestamp } from '../platform/http/input.ts';
import { pageQuery, sortable } from '../platform/http/paging.ts';
import { endpointOptions, rawOptions } from './options.ts';
import {
  type EndpointRecord,
  PBX_AUDIT_SORTS,
  PBX_ENDPOINT_SORTS,
  PBX_USER_SORTS,
  type UserRecord,
} from './repository.ts';

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
const contact = z.object({ host, port: z.number().int().min(1).max(65535).default(5060) }).strict();

// ---------------------------------------------------------------- endpoints

export const clientEndpointBody = z.discriminatedUnion('kind', [
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
      contact,
      options: endpointOptions.default({}),
      raw_options: rawOptions.default({}),
    })
    .strict(),
]);

export const trunkBody = z
  .object({
    seller_id: z.uuid(),
    name: endpointName.optional(),
    ips,
    options: endpointOptions.default({}),
    raw_options: rawOptions.default({}),
  })
  .strict();

export const changeBody = z
  .object({
    options: endpointOptions.optional(),
    raw_options: rawOptions.optional(),
    ips: ips.optional(),
    contact: contact.optional(),
  })
  .strict()
  .refine((b) => Object.values(b).some((v) => v !== undefined), 'nothing to change');

/** Part of a name, email or endpoint to look for (blank: no filter). */
const listText = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
  z.string().trim().max(100).optional(),
);
export const endpointsQuery = pageQuery.extend({
  kind: z.enum(PBX_ENDPOINT_KINDS).optional(),
  q: listText,
  ...sortable(PBX_ENDPOINT_SORTS),
});
export const usersQuery = pageQuery.extend({ q: listText, ...sortable(PBX_USER_SORTS) });
export const trunksQuery = pageQuery.extend({ seller_id: z.uuid().optional() });

export const endpointOut = z.object({
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
export const credentials = z.object({ username: z.string(), password: z.string() });
export const toEndpoint = (r: EndpointRecord) => ({
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

// ---------------------------------------------------------------- users

export const userBody = z
  .object({ name: z.string().trim().min(1).max(100), email: z.email().max(254) })
  .strict();
export const userOut = z.object({
  id: z.uuid(),
  name: z.string(),
  email: z.string(),
  extension: z.number(),
  endpoint: z.string(),
  created_at: z.string(),
});
export const toUser = (u: UserRecord) => ({
  id: u.id,
  name: u.name,
  email: u.email,
  extension: u.extension,
  endpoint: String(u.extension),
  created_at: u.createdAt.toISOString(),
});

// ---------------------------------------------------------------- apply

export const applyBody = z.object({ triggered_by: z.string().trim().min(1).max(200) }).strict();
const checkOut = z.object({ endpoint: z.string(), visible: z.boolean(), reason: z.string().nullable() });
export const applyOut = z.object({
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

// ---------------------------------------------------------------- audit

export const auditQuery = pageQuery.extend({
  action: z.string().max(64).optional(),
  result: z.enum(['ok', 'error']).optional(),
  target: z.string().max(255).optional(),
  actor_key_id: z.uuid().optional(),
  from: timestamp.optional(),
  to: timestamp.optional(),
  ...sortable(PBX_AUDIT_SORTS),
});
export const auditOut = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.object({ key_id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string(),
  target: z.string().nullable(),
  result: z.enum(['ok', 'error']),
  detail: z.record(z.string(), z.unknown()).nullable(),
});

export const toAudit = (a: typeof pbxAudit.$inferSelect) => ({
  id: a.id,
  at: a.at.toISOString(),
  actor: { key_id: a.actorKeyId, label: a.actorLabel },
  action: a.action,
  target: a.target,
  result: a.result,
  detail: a.detail ?? null,
});
