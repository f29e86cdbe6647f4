// DIDs: the list (route a DID to a campaign in its row) and a DID's page with its caps and what the
// carrier charges for it. Caps and costs are the operator's (staff): a seller user sees the caps,
// never the costs, and its forms send neither (the API answers FORBIDDEN_ROLE to a seller key).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { didCreateBody, didPatchBody } from '../../routing/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, may, SELLER_WRITE, STAFF_WRITE, scopeOf } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { CAP_SPEC, capInputs, capsSummary, microsText, moneyFromForm } from '../pages/routing-fields.ts';
import { sendPage, userOf } from '../plugin.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { pageQuery } from '../schemas.ts';
import { bodyOf, cfg, changedBy, done, idParams, selected } from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

const DID_KEYS = ['number', 'created_at'] as const;
const COSTS = { rate_per_min: 'rate_per_min_micros', monthly_rent: 'monthly_rent_micros' };

export function didRoutes(
  svc: RoutingService,
  onChange: () => void,
  names: { sellerNames(): Promise<Map<string, string>> },
) {
  return async function routes(app: FastifyInstance) {
    const changed = changedBy(onChange);

    app.get('/dids', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const q = pageQuery.extend({ campaign_id: z.uuid().optional().catch(undefined) }).parse(req.query);
      const o = sortQuery(DID_KEYS, 'created_at', 'desc').parse(req.query);
      const th = (k: (typeof DID_KEYS)[number], label: string) =>
        sortTh('/console/dids', { campaign_id: q.campaign_id }, o, k, label);
      const [list, camps] = await Promise.all([
        svc.listDids({ ...q, sellerId: scope, campaignId: q.campaign_id, order: o }),
        svc.listCampaigns({ limit: 500, offset: 0, sellerId: scope ?? undefined }),
      ]);
      const campNames = new Map(camps.items.map((c) => [c.id, c.name]));
      const sellers = scope ? new Map<string, string>() : await names.sellerNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const staff = may(user, STAFF_WRITE);
      const campOptions = (sel: string | null, sellerId?: string) =>
        html`<option value="">no campaign</option>${camps.items
          .filter((c) => !sellerId || c.sellerId === sellerId)
          .map((c) => html`<option value="${c.id}"${selected(sel === c.id)}>${c.name}</option>`)}`;
      const body = html`<form method="get" action="/console/dids" class="grid"><label>Campaign <select name="campaign_id"><option value="">every campaign</option>${camps.items.map((c) => html`<option value="${c.id}"${selected(q.campaign_id === c.id)}>${c.name}</option>`)}</select></label><input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button></form>
${
  write
    ? html`<h2>New DID</h2><form method="post" action="/console/dids" class="grid">${csrfField(ctx)}
<label>Number <input name="number" required placeholder="+14155550100"></label>
${scope ? '' : html`<label>Seller <select name="seller_id" required>${[...sellers].map(([id, n]) => html`<option value="${id}">${n}</option>`)}</select></label>`}
<label>Campaign <select name="campaign_id">${campOptions(null)}</select></label>
${staff ? capInputs(null) : ''}
<button type="submit">Add DID</button></form>`
    : ''
}
<h2>DIDs</h2>
${
  list.items.length
    ? html`<div class="scroll"><table id="dids-list"><thead><tr>${th('number', 'Number')}${scope ? '' : html`<th>Seller</th>`}<th>Campaign</th><th>Caps: live · hour · day · month · total</th>${th('created_at', 'Since')}${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (
    d,
  ) => html`<tr><td><a href="/console/dids/${d.id}">${d.number}</a></td>${scope ? '' : html`<td>${sellers.get(d.sellerId) ?? d.sellerId}</td>`}
<td>${
    write
      ? html`<form method="post" action="/console/dids/${d.id}" class="inline">${csrfField(ctx)}<select name="campaign_id" aria-label="campaign">${campOptions(d.campaignId, d.sellerId)}</select> <button type="submit">Save</button></form>`
      : (campNames.get(d.campaignId ?? '') ?? 'none')
  }</td><td>${capsSummary(d)}</td><td>${d.createdAt.toISOString().slice(0, 10)}</td>
${write ? html`<td><form method="post" action="/console/dids/${d.id}/delete" class="inline" data-confirm="Delete DID ${d.number}?">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`,
)}</tbody></table></div>${pager('/console/dids', { campaign_id: q.campaign_id, ...o }, { ...q, total: list.total })}`
    : empty('No DIDs yet.')
}`;
      return sendPage(reply, layout(ctx, 'DIDs', body));
    });

    app.get('/dids/:id', { config: cfg(EVERYONE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const user = userOf(req);
      const scope = scopeOf(user);
      const d = await svc.did(id, scope);
      const camps = await svc.listCampaigns({ limit: 500, offset: 0, sellerId: d.sellerId });
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const staff = may(user, STAFF_WRITE);
      const dis = write ? '' : html` disabled`;
      const staffDis = staff ? '' : html` disabled`;
      const body = html`<form method="post" action="/console/dids/${d.id}/settings" class="grid" id="did-form">${csrfField(ctx)}
<label>Campaign <select name="campaign_id"${dis}><option value="">no campaign</option>${camps.items.map((c) => html`<option value="${c.id}"${selected(d.campaignId === c.id)}>${c.name}</option>`)}</select></label>
<fieldset><legend>Caps on this number's calls, on top of the seller's and each link's (set by staff; empty: none; hour, day and month in the daemon's default time zone)</legend>
${capInputs(d, staffDis)}</fieldset>
${
  scope
    ? ''
    : html`<fieldset><legend>What the carrier charges (set by staff)</legend>
<label>Per minute of answered call <input name="rate_per_min" inputmode="decimal" value="${microsText(d.ratePerMinMicros)}"${staffDis}></label>
<label>Monthly rent <input name="monthly_rent" inputmode="decimal" value="${microsText(d.monthlyRentMicros)}"${staffDis}></label></fieldset>`
}
${write ? html`<button type="submit">Save</button>` : ''}</form>`;
      return sendPage(reply, layout(ctx, `DID ${d.number}`, body));
    });

    app.post('/dids', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const staff = may(userOf(req), STAFF_WRITE);
      const b = validate(
        didCreateBody,
        fromForm(req.body, {
          number: 'text',
          seller_id: 'optUuid',
          campaign_id: 'uuidOrNull',
          ...(staff ? CAP_SPEC : {}),
        }),
      );
      changed(await svc.createDid(b, scopeOf(userOf(req)), req.actor));
      return done(reply, '/console/dids', 'created');
    });
    app.post('/dids/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const b = validate(didPatchBody, fromForm(req.body, { campaign_id: 'uuidOrNull' }));
      changed(await svc.setDidCampaign(id, b.campaign_id ?? null, scopeOf(userOf(req)), req.actor));
      return done(reply, '/console/dids');
    });
    app.post('/dids/:id/settings', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const staff = may(userOf(req), STAFF_WRITE);
      const f = bodyOf(req);
      // A seller user's form routes the DID only: caps and costs are staff's.
      const b = {
        ...fromForm(f, { campaign_id: 'uuidOrNull', ...(staff ? CAP_SPEC : {}) }),
        ...(staff ? moneyFromForm(f, COSTS) : {}),
      };
      changed(await svc.updateDid(id, validate(didPatchBody, b), scopeOf(userOf(req)), req.actor));
      return done(reply, `/console/dids/${id}`);
    });
    app.post('/dids/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.deleteDid(id, scopeOf(userOf(req)), req.actor));
      return done(reply, '/console/dids', 'deleted');
    });
  };
}
