// Caller blocklists: a seller's own list and the global one (staff), which campaigns with "use the
// blocklist" refuse callers from. Through the routing service with the API's schemas and scope rules:
// a seller user sees and changes its own list only. A list is imported by pasting the API's CSV.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CALLER_BLOCK_SORTS } from '../../routing/repository/blocklist.ts';
import { callerBlockBody, toE164 } from '../../routing/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, may, SELLER_WRITE, scopeOf } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { sendPage, userOf } from '../plugin.ts';
import { sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { pageQuery } from '../schemas.ts';
import { bodyOf, cfg, done, idParams, selected, when } from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

const SORTS = sortKeys(CALLER_BLOCK_SORTS);
const listQuery = pageQuery.extend({
  list: z
    .union([z.uuid(), z.literal('global')])
    .optional()
    .catch(undefined),
  number: z.string().max(32).optional().catch(undefined),
});

export function blocklistRoutes(svc: RoutingService, names: { sellerNames(): Promise<Map<string, string>> }) {
  return async function routes(app: FastifyInstance) {
    app.get('/blocklist', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const q = listQuery.parse(req.query);
      const n = q.number ? (toE164(q.number) ?? q.number) : undefined;
      const o = sortQuery(SORTS, 'created_at', 'desc').parse(req.query);
      const list = await svc.listCallerBlocks({ ...q, sellerId: q.list, number: n, order: o }, scope);
      const keep = { list: q.list, number: q.number };
      const th = (k: (typeof SORTS)[number], label: string) =>
        sortTh('/console/blocklist', keep, o, k, label);
      const sellers = scope ? new Map<string, string>() : await names.sellerNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const listName = (id: string | null) => (id === null ? 'global' : (sellers.get(id) ?? 'own'));
      const listOptions = (sel: string | undefined) =>
        html`<option value="global"${selected(sel === 'global')}>global (every seller)</option>${[...sellers].map(([id, name]) => html`<option value="${id}"${selected(sel === id)}>${name}</option>`)}`;
      const body = html`<p>Campaigns that use the blocklist refuse callers on their seller's list and on the global one.</p>
<form method="get" action="/console/blocklist" class="grid" id="list-filters">
${scope ? '' : html`<label>List <select name="list"><option value="">every list</option>${listOptions(q.list)}</select></label>`}
<label>Number <input name="number" value="${q.number ?? ''}" placeholder="+12125550123"></label>
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button> <a href="/console/blocklist">Clear</a></form>
${
  write
    ? html`<h2>Block a caller</h2><form method="post" action="/console/blocklist" class="grid" id="block-add">${csrfField(ctx)}
<label>Number <input name="number" required placeholder="+12125550123"></label>
${scope ? '' : html`<label>List <select name="seller_id">${listOptions(q.list ?? 'global')}</select></label>`}
<label>Note <input name="note" maxlength="200"></label>
<button type="submit">Block</button></form>
<details><summary>Import a CSV (header <code>number</code>, optionally <code>note</code>)</summary>
<form method="post" action="/console/blocklist/import" class="grid" id="block-import">${csrfField(ctx)}
${scope ? '' : html`<label>Into the list <select name="seller_id">${listOptions(q.list ?? 'global')}</select></label>`}
<label>CSV <textarea name="csv" rows="6" required placeholder="number,note&#10;+12125550123,complained"></textarea></label>
<button type="submit">Import</button></form></details>`
    : ''
}
<h2>Blocked callers</h2>
${
  list.items.length
    ? html`<div class="scroll"><table id="blocklist"><thead><tr>${th('number', 'Number')}${scope ? '' : html`<th>List</th>`}${th('note', 'Note')}${th('created_at', 'Added')}${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (
    b,
  ) => html`<tr><td>${b.number}</td>${scope ? '' : html`<td>${listName(b.sellerId)}</td>`}<td>${b.note ?? ''}</td><td>${when(b.createdAt)}</td>
${write ? html`<td><form method="post" action="/console/blocklist/${b.id}/delete" class="inline" data-confirm="Unblock ${b.number}?">${csrfField(ctx)}<button type="submit" class="link">Unblock</button></form></td>` : ''}</tr>`,
)}</tbody></table></div>${pager('/console/blocklist', { ...keep, ...o }, { ...q, total: list.total })}`
    : empty(q.list || q.number ? 'No blocked caller matches this filter.' : 'Nobody is blocked here.')
}`;
      return sendPage(reply, layout(ctx, 'Blocklist', body));
    });

    app.post('/blocklist', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const scope = scopeOf(userOf(req));
      const f = fromForm(req.body, { number: 'text', note: 'textOrNull', seller_id: 'optText' });
      // The form says "global" for the global list, as the API's query does; its body says null.
      if (f.seller_id === 'global') f.seller_id = null;
      await svc.addCallerBlock(validate(callerBlockBody, f), scope);
      return done(reply, '/console/blocklist', 'created');
    });
    app.post('/blocklist/import', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const scope = scopeOf(userOf(req));
      const f = bodyOf(req);
      const seller = typeof f.seller_id === 'string' && f.seller_id ? f.seller_id : undefined;
      const csv = typeof f.csv === 'string' ? f.csv : '';
      const r = await svc.importCallerBlocks(Readable.from([csv]), seller, scope);
      const ctx = ctxOf(req);
      const body = html`<section id="import-result"><p>${r.added} added, ${r.already_listed} already listed, of ${r.lines} line(s). ${r.rejected_total ? `${r.rejected_total} rejected:` : 'None rejected.'}</p>
${r.rejected.length ? html`<ol class="rejected" id="import-rejected">${r.rejected.map((x) => html`<li>line ${x.line}: ${x.reason}</li>`)}</ol>` : ''}
<p><a href="/console/blocklist">Back to the blocklist</a></p></section>`;
      return sendPage(reply, layout(ctx, 'Blocklist import', body));
    });
    app.post('/blocklist/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      await svc.removeCallerBlock(id, scopeOf(userOf(req)));
      return done(reply, '/console/blocklist', 'deleted');
    });
  };
}
