// Calls: the call records (the same reader as /v1/calls, through the cdr service) with the API's
// filters, names, the attempts and the links not offered each call (and why), sortable, paged on the
// server, and the current filter as CSV. A seller user sees its own seller's calls only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { CALL_SORTS, type CallSort, type NamedCallRow } from '../../cdr/repository.ts';
import { callsQuery } from '../../cdr/schemas.ts';
import { type CallsService, callsCsv } from '../../cdr/service.ts';
import type { Disposition } from '../../routing/call.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, scopeOf } from '../access.ts';
import { validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { empty, layout, pager } from '../pages/layout.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { sendPage, userOf } from '../plugin.ts';
import { tabs } from './call-totals.ts';
import { ctxOf } from './users.ts';

// Every disposition a call record can carry (a Record so a new one fails the type check here).
const DISPOSITIONS = Object.keys({
  answered: 1,
  unknown_did: 1,
  inactive_campaign: 1,
  seller_archived: 1,
  seller_inactive: 1,
  did_inactive: 1,
  no_client: 1,
  all_failed: 1,
  caller_abandoned: 1,
  duplicate_rejected: 1,
  anonymous_rejected: 1,
  region_rejected: 1,
  blocked_rejected: 1,
  repeat_rejected: 1,
  default_route: 1,
  queue_timeout: 1,
  shed: 1,
  ended_unattended: 1,
  ended_unseen: 1,
  unattended_timeout: 1,
  error: 1,
} satisfies Record<Disposition, 1>);

/** The most rows one CSV download carries (the API pages beyond that). */
export const CSV_MAX_ROWS = 10_000;

const SORTS = Object.keys(CALL_SORTS) as [CallSort, ...CallSort[]];
const day = z.union([z.literal(''), z.iso.date()]).optional();
/** The filter form: dates (UTC days) and ids; the API's own query schema checks the result. */
const filterForm = z.object({
  from: day,
  to: day,
  seller_id: z.string().optional(),
  campaign_id: z.string().optional(),
  client_id: z.string().optional(),
  disposition: z.string().optional(),
  did: z.string().optional(),
  caller: z.string().optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).catch(0),
  limit: z.coerce.number().int().min(1).max(200).catch(50),
});

/** The instant a UTC day ends; a day that does not exist stays as given, for the schema to refuse. */
function nextDay(d: string): string {
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isNaN(t) ? d : new Date(t + 86_400_000).toISOString();
}

/** A number typed as people write it ("+1 (415) 555-0303"), as the records hold it; empty: none. */
const number = (v: string | undefined) => v?.replace(/[\s().-]/g, '') || undefined;

function filtersOf(req: FastifyRequest) {
  const f = validate(filterForm, req.query);
  const s = sortQuery(SORTS, 'started_at', 'desc').parse(req.query);
  const scope = scopeOf(userOf(req));
  // The API's query schema validates what the form gave, as /v1/calls would.
  const q = validate(callsQuery.extend({ seller_id: z.uuid().optional() }), {
    from: f.from ? `${f.from}T00:00:00.000Z` : undefined,
    to: f.to ? nextDay(f.to) : undefined,
    seller_id: scope ? undefined : f.seller_id || undefined,
    campaign_id: f.campaign_id || undefined,
    client_id: f.client_id || undefined,
    disposition: f.disposition || undefined,
    did: number(f.did),
    caller: number(f.caller),
    limit: f.limit,
  });
  const filter = {
    sellerId: scope ?? q.seller_id,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    campaignId: q.campaign_id,
    clientId: q.client_id,
    disposition: q.disposition,
    did: q.did,
    caller: q.caller,
  };
  // What the page's links carry along (the form's own values).
  const keep = {
    from: f.from || undefined,
    to: f.to || undefined,
    seller_id: scope ? undefined : q.seller_id,
    campaign_id: q.campaign_id,
    client_id: q.client_id,
    disposition: q.disposition,
    did: q.did,
    caller: q.caller,
  };
  return { f, s, scope, filter, keep, limit: q.limit };
}

/**
 * The clients a user may pick and see by name: every client for staff; for a seller, those its own
 * campaigns link to, named as on its live floor (others stay ids).
 */
export async function clientChoices(
  routing: RoutingService,
  scope: string | null,
  camps: ReadonlyArray<{ id: string }>,
  clients: ReadonlyArray<{ id: string; name: string }>,
): Promise<Array<readonly [string, string]>> {
  const all = clients.map((c) => [c.id, c.name] as const);
  if (!scope) return all;
  const linked = new Set(
    (await Promise.all(camps.map((c) => routing.linksOfCampaign(c.id, scope)))).flat().map((l) => l.clientId),
  );
  return all.filter(([id]) => linked.has(id));
}

export const at = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '');
/**
 * Why a link was not offered a call (`seller_concurrency`, ...): one long word, which may wrap after
 * its underscores rather than widen the calls table past a laptop's window.
 */
export const reasonText = (r: string): Html =>
  html`${r.split('_').map((p, i) => (i ? html`_<wbr>${p}` : p))}`;

export function callRoutes(calls: CallsService, routing: RoutingService) {
  return async function routes(app: FastifyInstance) {
    const cfg = { console: { roles: EVERYONE } };

    app.get('/calls', { config: cfg }, async (req, reply) => {
      const { f, s, scope, filter, keep, limit } = filtersOf(req);
      const [page, camps, sellerList, clientList] = await Promise.all([
        calls.page(filter, { ...s, limit, offset: f.offset }),
        routing.listCampaigns({ limit: 500, offset: 0, sellerId: scope ?? undefined }),
        scope ? null : routing.listSellers({ limit: 500, offset: 0 }),
        routing.listClients({ limit: 500, offset: 0 }),
      ]);
      const clientOptions = await clientChoices(routing, scope, camps.items, clientList.items);
      const clientNames = new Map(clientOptions);
      const ctx = ctxOf(req);
      const opt = (v: string, label: string, cur: string | undefined) =>
        html`<option value="${v}"${cur === v ? html` selected` : ''}>${label}</option>`;
      const th = (k: CallSort, label: string, cls = '') => sortTh('/console/calls', keep, s, k, label, cls);
      const row = (c: NamedCallRow) => html`<tr data-call-id="${c.callId}">
<td><a href="/console/calls/${encodeURIComponent(c.callId)}">${at(c.startedAt)}</a>${c.recordingName && !c.recordingDeletedAt ? html`<br><small>recorded</small>` : ''}</td><td>${c.did ?? ''}</td><td>${c.callerNumber ?? ''}</td>
${scope ? '' : html`<td>${c.sellerName ?? ''}</td>`}<td>${c.campaignName ?? ''}</td><td>${c.clientName ?? ''}</td>
<td><span class="disp disp-${c.disposition}">${c.disposition}</span>${c.hangupCause !== null ? html` <small>cause ${c.hangupCause}</small>` : ''}</td>
<td class="num">${c.durationS}</td><td class="num">${c.billableS}</td>
<td class="not-routed">${
        c.notRouted.length
          ? html`<ul>${c.notRouted.map((n) => html`<li>${clientNames.get(n.client_id) ?? n.client_id}: <strong>${reasonText(n.reason)}</strong></li>`)}</ul>`
          : ''
      }</td>
<td>${
        c.attempts.length
          ? html`<details><summary>${c.attempts.length} attempt(s)</summary><ol>${c.attempts.map(
              (a) =>
                html`<li>${clientNames.get(a.client_id) ?? a.client_id}: ${a.result}, rang ${Math.round(a.ring_ms / 100) / 10} s</li>`,
            )}</ol></details>`
          : 'none'
      }</td></tr>`;
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...keep, sort: s.sort, dir: s.dir }))
        if (v !== undefined) query.set(k, String(v));
      const body = html`${tabs('records')}
<form method="get" action="/console/calls" class="grid" id="call-filters">
<label>From (UTC day) <input type="date" name="from" value="${f.from ?? ''}"></label>
<label>To (UTC day, included) <input type="date" name="to" value="${f.to ?? ''}"></label>
${sellerList ? html`<label>Seller <select name="seller_id"><option value="">every seller</option>${sellerList.items.map((x) => opt(x.id, x.name, keep.seller_id))}</select></label>` : ''}
<label>Campaign <select name="campaign_id"><option value="">every campaign</option>${camps.items.map((x) => opt(x.id, x.name, keep.campaign_id))}</select></label>
<label>Client <select name="client_id"><option value="">every client</option>${clientOptions.map(([id, n]) => opt(id, n, keep.client_id))}</select></label>
<label>DID <input name="did" value="${keep.did ?? ''}" inputmode="tel" maxlength="30" placeholder="+14155550100"></label>
<label>Caller <input name="caller" value="${keep.caller ?? ''}" inputmode="tel" maxlength="40" placeholder="+12125550123"></label>
<label>Disposition <select name="disposition"><option value="">any</option>${DISPOSITIONS.map((x) => opt(x, x, keep.disposition))}</select></label>
<input type="hidden" name="sort" value="${s.sort}"><input type="hidden" name="dir" value="${s.dir}">
<button type="submit">Filter</button> <a href="/console/calls">Clear</a></form>
<p><a href="/console/calls.csv?${query.toString()}" download>Download CSV</a> <small>(this filter and order, the first ${CSV_MAX_ROWS.toLocaleString('en')} calls)</small></p>
${
  page.items.length
    ? html`<div class="scroll"><table id="calls-list"><thead><tr>${th('started_at', 'Started (UTC)')}${th('did', 'DID')}${th('caller', 'Caller')}
${scope ? '' : th('seller', 'Seller')}${th('campaign', 'Campaign')}${th('client', 'Client')}${th('disposition', 'Disposition')}
${th('duration', 'Duration (s)', 'num')}${th('billable', 'Billable (s)', 'num')}<th>Not routed</th><th>Attempts</th></tr></thead>
<tbody>${page.items.map(row)}</tbody></table></div>${pager('/console/calls', { ...keep, sort: s.sort, dir: s.dir }, { limit, offset: f.offset, total: page.total })}`
    : empty('No calls match this filter.')
}`;
      return sendPage(reply, layout(ctx, 'Calls', body));
    });

    app.get('/calls.csv', { config: cfg }, async (req, reply) => {
      const { s, filter } = filtersOf(req);
      const page = await calls.page(filter, { ...s, limit: CSV_MAX_ROWS, offset: 0 });
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="calls.csv"')
        .send(callsCsv(page.items, !scopeOf(userOf(req))));
    });
  };
}
