// The audit trail of routing resources (who changed which seller, client, campaign, DID or link, and
// how), newest first or sorted by a column header, filtered by who, what kind, which entity, what action and a period, paged on
// the server. Through the AuditService `GET /v1/audit` uses, checked with its query schema. The API
// gives the trail to admin and staff only: here staff roles (viewers too) see it, seller users do not.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { AUDIT_SORTS } from '../../audit/repository.ts';
import { auditFilterOf, auditQuery } from '../../audit/schemas.ts';
import type { AuditService } from '../../audit/service.ts';
import type { auditLog } from '../../db/schema/audit.ts';
import { STAFF_READ } from '../access.ts';
import { validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { empty, layout, pager } from '../pages/layout.ts';
import { sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { sendPage } from '../plugin.ts';
import { ctxOf } from './users.ts';

const PATH = '/console/audit';
const SORTS = sortKeys(AUDIT_SORTS);
type Row = typeof auditLog.$inferSelect;

const day = z.union([z.literal(''), z.iso.date()]).optional();
/** The filter form as it arrives; the API's query schema checks what it becomes. */
const filterForm = z.object({
  who: z.string().max(200).optional(),
  resource: z.string().optional(),
  resource_id: z.string().optional(),
  action: z.string().optional(),
  from: day,
  to: day,
  offset: z.coerce.number().int().min(0).max(1_000_000).catch(0),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
});

/** The instant a UTC day ends (the `to` day is included); a bad day is left for the schema to refuse. */
function nextDay(d: string): string {
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isNaN(t) ? d : new Date(t + 86_400_000).toISOString();
}

/** "who" is `<actor type>` or `<actor type>:<actor id>`, as the filter's choices write it. */
function whoOf(who: string | undefined): { actor_type?: string; actor_id?: string } {
  if (!who) return {};
  const i = who.indexOf(':');
  return i < 0 ? { actor_type: who } : { actor_type: who.slice(0, i), actor_id: who.slice(i + 1) };
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
/** What a row is called by people: its name, or a DID's number; else nothing (the id stands). */
function nameOf(r: Row): string | null {
  const img = r.after ?? r.before ?? {};
  const n = img.name ?? img.number ?? img.url;
  return typeof n === 'string' ? n : null;
}

/** An update as its changed columns; a create or delete as the whole row. */
function changeOf(r: Row): Html {
  if (r.action === 'update' && r.before && r.after) {
    const before = r.before;
    const after = r.after;
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].filter(
      (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
    );
    if (!keys.length) return html`<span class="muted">no column changed</span>`;
    return html`<ul class="changes">${keys.map((k) => html`<li><code>${k}</code>: ${show(before[k] ?? null)} → ${show(after[k] ?? null)}</li>`)}</ul>`;
  }
  const img = r.after ?? r.before;
  return img
    ? html`<details><summary>${r.action === 'delete' ? 'row as it was' : 'row as made'}</summary><pre class="row">${JSON.stringify(img, null, 1)}</pre></details>`
    : html``;
}

export function auditRoutes(audit: AuditService) {
  return async function routes(app: FastifyInstance) {
    app.get('/audit', { config: { console: { roles: STAFF_READ } } }, async (req, reply) => {
      const f = validate(filterForm, req.query);
      const who = whoOf(f.who || undefined);
      const q = validate(auditQuery, {
        limit: f.limit,
        offset: f.offset,
        resource: f.resource || undefined,
        resource_id: f.resource_id?.trim() || undefined,
        action: f.action || undefined,
        actor_type: who.actor_type,
        actor_id: who.actor_id,
        from: f.from ? `${f.from}T00:00:00.000Z` : undefined,
        to: f.to ? nextDay(f.to) : undefined,
      });
      const o = sortQuery(SORTS, 'at', 'desc').parse(req.query);
      const [r, kinds, actors] = await Promise.all([
        audit.list(auditFilterOf(q, o)),
        audit.resources(),
        audit.actors(),
      ]);
      const keep = {
        who: f.who,
        resource: q.resource,
        resource_id: q.resource_id,
        action: q.action,
        from: f.from,
        to: f.to,
      };
      const whoValue = (a: { type: string; id: string | null }) => (a.id ? `${a.type}:${a.id}` : a.type);
      const whoLabel = (a: { type: string; id: string | null; label: string | null }) =>
        a.type === 'system'
          ? 'system (jobs, scripts, psql)'
          : `${a.label ?? a.id} (${a.type.replace('_', ' ')})`;
      const link = (extra: Record<string, string>) => `${PATH}?${new URLSearchParams(extra)}`;
      const th = (k: (typeof SORTS)[number], label: string) => sortTh(PATH, keep, o, k, label);
      const ctx = ctxOf(req);
      const body = html`<form method="get" action="${PATH}" class="grid" id="audit-filter">
<label>Who <select name="who"><option value="">anyone</option>${actors.map((a) => html`<option value="${whoValue(a)}"${f.who === whoValue(a) ? html` selected` : ''}>${whoLabel(a)}</option>`)}</select></label>
<label>Kind <select name="resource"><option value="">any</option>${kinds.map((k) => html`<option${q.resource === k ? html` selected` : ''}>${k}</option>`)}</select></label>
<label>Entity id <input name="resource_id" value="${q.resource_id ?? ''}" maxlength="64"></label>
<label>Action <select name="action"><option value="">any</option>${['create', 'update', 'delete'].map((x) => html`<option${q.action === x ? html` selected` : ''}>${x}</option>`)}</select></label>
<label>From (UTC day) <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>To (UTC day, included) <input type="date" name="to" value="${f.to ?? ''}"></label>
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button>${Object.values(keep).some(Boolean) ? html` <a href="${PATH}">Clear</a>` : ''}</form>
${
  r.items.length
    ? html`<div class="scroll"><table id="audit"><thead><tr>${th('at', 'When (UTC)')}${th('actor', 'Who')}${th('resource', 'Kind')}<th>Entity</th>${th('action', 'Action')}<th>Change</th></tr></thead><tbody>
${r.items.map((a) => {
  const name = nameOf(a);
  return html`<tr data-audit-id="${a.id}"><td>${a.at.toISOString().replace('T', ' ').slice(0, 19)}</td>
<td>${a.actorType === 'system' ? 'system' : html`${a.actorLabel ?? a.actorId ?? ''}<br><span class="muted">${a.actorType.replace('_', ' ')}</span>`}</td>
<td>${a.resource}</td>
<td>${a.resourceId ? html`<a href="${link({ resource: a.resource, resource_id: a.resourceId })}" title="every record of this ${a.resource}">${name ?? a.resourceId}</a>${name ? html`<br><code class="muted">${a.resourceId}</code>` : ''}` : ''}</td>
<td>${a.action}</td><td>${changeOf(a)}</td></tr>`;
})}</tbody></table></div>${pager(PATH, { ...keep, ...o }, { limit: q.limit, offset: q.offset, total: r.total })}`
    : empty('No audit records match.')
}`;
      return sendPage(reply, layout(ctx, 'Audit log', body));
    });
  };
}
