// API keys (admins only): the keys machines use, listed without their secrets; a new key is shown
// once, on the answer to its form; revoking stops it at once on this instance (the key cache is
// cleared) and within the cache's lifetime on the others. The API's own schema and checks.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { API_KEY_SORTS, createApiKey, pageApiKeys, revokeApiKey } from '../../auth/keys.ts';
import { assertKeyScope, keyCreateBody, keyInput } from '../../auth/schemas.ts';
import { API_ROLES } from '../../db/schema/auth.ts';
import type { Db } from '../../platform/db.ts';
import { notFound } from '../../platform/http/errors.ts';
import type { RoutingService } from '../../routing/service.ts';
import { ADMIN } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { choice, sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { pageQuery } from '../schemas.ts';
import { sendPage } from '../plugin.ts';
import { reauthFields, requireReauth } from '../reauth.ts';
import type { ConsoleServices } from '../services.ts';
import { ctxOf, flashOf } from './users.ts';

const PATH = '/console/api-keys';
const SORTS = sortKeys(API_KEY_SORTS);
const listQuery = pageQuery.extend({
  revoked: z.enum(['true']).optional().catch(undefined),
  role: choice(z.enum(API_ROLES)).catch(undefined),
  seller_id: choice(z.uuid()).catch(undefined),
});
const at = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '');

export function apiKeyRoutes(db: Db, routing: RoutingService, s: ConsoleServices) {
  return async function routes(app: FastifyInstance) {
    const admin = { console: { roles: ADMIN } };

    app.get('/api-keys', { config: admin }, async (req, reply) => {
      const ctx = ctxOf(req, flashOf(req));
      const q = listQuery.parse(req.query);
      const order = sortQuery(SORTS, 'created', 'desc').parse(req.query);
      const [keys, sellers] = await Promise.all([
        pageApiKeys(db, {
          includeRevoked: q.revoked === 'true',
          role: q.role,
          sellerId: q.seller_id,
          order,
          limit: q.limit,
          offset: q.offset,
        }),
        routing.listSellers({ limit: 500, offset: 0 }),
      ]);
      const sellerName = new Map(sellers.items.map((x) => [x.id, x.name]));
      const rows = keys.items;
      const keep = { revoked: q.revoked, role: q.role, seller_id: q.seller_id };
      const th = (k: (typeof SORTS)[number], label: string) => sortTh(PATH, keep, order, k, label);
      const filtered = q.role !== undefined || q.seller_id !== undefined;
      const body = html`<section><h2>New key</h2>
<form method="post" action="${PATH}" class="grid" id="api-key-form">${csrfField(ctx)}
<label>Role <select name="role">${API_ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
<label>Seller (seller keys) <select name="seller_id"><option value="">none</option>${sellers.items.filter((x) => !x.archivedAt).map((x) => html`<option value="${x.id}">${x.name}</option>`)}</select></label>
<label>Label <input name="label" maxlength="200" placeholder="vicidial-east"></label>
<label>Allowed addresses (comma-separated; empty: any) <input name="allow_ips" placeholder="203.0.113.0/24"></label>
<label>Requests a minute (empty: the role's default; 0: no limit) <input name="rate_limit_per_min" type="number" min="0"></label>
${reauthFields(ctx.user)}<button type="submit">Create key</button></form></section>
<section><h2>Keys</h2>
<form method="get" action="${PATH}" class="grid" id="key-filters">
<label>Role <select name="role"><option value="">any</option>${API_ROLES.map((r) => html`<option${q.role === r ? html` selected` : ''}>${r}</option>`)}</select></label>
<label>Seller <select name="seller_id"><option value="">any</option>${sellers.items.map((x) => html`<option value="${x.id}"${q.seller_id === x.id ? html` selected` : ''}>${x.name}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="revoked" value="true"${q.revoked ? html` checked` : ''}> Revoked keys too</label>
<input type="hidden" name="sort" value="${order.sort}"><input type="hidden" name="dir" value="${order.dir}">
<button type="submit">Filter</button> <a href="${PATH}">Clear</a></form>
${
  rows.length
    ? html`<div class="scroll"><table id="api-keys"><thead><tr>${th('prefix', 'Key')}${th('role', 'Role')}<th>Seller</th>${th('label', 'Label')}<th>Addresses</th>${th('created', 'Created (UTC)')}${th('last_used', 'Last used')}<th>Revoked</th><th></th></tr></thead><tbody>
${rows.map(
  (
    k,
  ) => html`<tr data-key="${k.prefix}"><td><code>cc_${k.prefix}_…</code></td><td>${k.role}</td><td>${k.sellerId ? (sellerName.get(k.sellerId) ?? k.sellerId) : ''}</td><td>${k.label ?? ''}</td><td>${k.allowIps.join(', ')}</td><td>${at(k.createdAt)}</td><td>${at(k.lastUsedAt)}</td><td>${at(k.revokedAt)}</td>
<td>${k.revokedAt ? '' : html`<form method="post" action="${PATH}/${k.id}/revoke" class="inline" data-confirm="Revoke key ${k.label ?? k.prefix}? Whatever uses it stops working.">${csrfField(ctx)}<button type="submit" class="link">Revoke</button></form>`}</td></tr>`,
)}</tbody></table></div>${pager(PATH, { ...keep, ...order }, { limit: q.limit, offset: q.offset, total: keys.total })}`
    : empty(
        filtered
          ? 'No API key matches this filter.'
          : q.revoked
            ? 'No API keys. Create one above.'
            : 'No API keys. Revoked ones, if any, are listed with “Revoked keys too”.',
      )
}</section>`;
      return sendPage(reply, layout(ctx, 'API keys', body));
    });

    app.post('/api-keys', { config: admin }, async (req, reply) => {
      const f = (req.body ?? {}) as Record<string, unknown>;
      const b = validate(keyCreateBody, {
        ...fromForm(f, { role: 'text', seller_id: 'optUuid', label: 'optText', rate_limit_per_min: 'int' }),
        allow_ips: fromForm(f, { allow_ips: 'list' }).allow_ips ?? [],
      });
      assertKeyScope(b);
      await requireReauth(s, req);
      const k = await createApiKey(db, keyInput(b));
      const ctx = ctxOf(req);
      const body = html`<div class="flash ok" role="status">Copy the key now: it is not shown again (only its hash is kept).</div>
<p><code class="secret" data-testid="api-key">${k.key}</code></p>
<p>Send it as the <code>X-API-Key</code> header (dialers asking for caller IDs may put it in the query as <code>key=</code>).</p>
<p><a href="${PATH}">Back to API keys</a></p>`;
      return sendPage(reply, layout(ctx, `API key ${b.label ?? k.prefix} created`, body), 201);
    });

    app.post('/api-keys/:id/revoke', { config: admin }, async (req, reply) => {
      const { id } = validate(z.object({ id: z.uuid() }), req.params);
      const r = await revokeApiKey(db, id);
      // As the API: a key revoked before is not there to revoke.
      if (!r || r.already) throw notFound('api key', id);
      app.deps.keys.invalidate();
      return reply.redirect(`${PATH}?done=revoked`, 303);
    });
  };
}
