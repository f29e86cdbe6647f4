// DIDs: the list (route a DID to a campaign in its row) and a DID's page with its caps and what the
// carrier charges for it. Caps and costs are the operator's (staff): a seller user sees the caps,
// never the costs, and its forms send neither (the API answers FORBIDDEN_ROLE to a seller key).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { didCreateBody, didPatchBody, didsQuery } from '../../routing/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, may, SELLER_WRITE, STAFF_WRITE, scopeOf } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { CAP_SPEC, capInputs, capsSummary, microsText, moneyFromForm } from '../pages/routing-fields.ts';
import { sendPage, userOf } from '../plugin.ts';
import { choice, sortQuery, sortTh } from '../pages/table.ts';
import { pageQuery } from '../schemas.ts';
import { bodyOf, cfg, changedBy, checked, done, idParams, selected } from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

const DID_KEYS = ['number', 'active', 'created_at'] as const;
const COSTS = { rate_per_min: 'rate_per_min_micros', monthly_rent: 'monthly_rent_micros' };

export function didRoutes(
  svc: RoutingService,
  onChange: () => void,
  names: {
    sellerNames(): Promise<Map<string, string>>;
    /** The sellers a new DID may name: not archived. */
    sellerPicks(): Promise<Map<string, string>>;
    /** The provider accounts DIDs may be bought through (none when provisioning does not run). */
    accountNames(): Promise<Array<{ id: string; name: string }>>;
  },
) {
  return async function routes(app: FastifyInstance) {
    const changed = changedBy(onChange);

    app.get('/dids', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const staff = may(user, STAFF_WRITE);
      const raw = (req.query ?? {}) as Record<string, unknown>;
      const q = pageQuery.parse(req.query);
      // Choices outside what the form offers are no filter; a number that is not one is the API's 400.
      const f = {
        campaign_id: z
          .uuid()
          .optional()
          .catch(undefined)
          .parse(raw.campaign_id || undefined),
        seller_id: scope
          ? undefined
          : z
              .uuid()
              .optional()
              .catch(undefined)
              .parse(raw.seller_id || undefined),
        routed: choice(z.enum(['true', 'false']))
          .catch(undefined)
          .parse(raw.routed),
        active: choice(z.enum(['true', 'false']))
          .catch(undefined)
          .parse(raw.active),
        account: scope
          ? undefined
          : choice(z.union([z.uuid(), z.literal('manual')]))
              .catch(undefined)
              .parse(raw.account),
        number: typeof raw.number === 'string' && raw.number.trim() ? raw.number.trim() : undefined,
      };
      const digits = validate(didsQuery.shape.number, f.number);
      const o = sortQuery(DID_KEYS, 'created_at', 'desc').parse(req.query);
      const th = (k: (typeof DID_KEYS)[number], label: string) => sortTh('/console/dids', f, o, k, label);
      const [list, camps, accounts] = await Promise.all([
        svc.listDids({
          ...q,
          sellerId: scope ?? f.seller_id ?? null,
          campaignId: f.campaign_id,
          routed: f.routed === undefined ? undefined : f.routed === 'true',
          active: f.active === undefined ? undefined : f.active === 'true',
          digits,
          account: f.account,
          order: o,
        }),
        svc.listCampaigns({ limit: 500, offset: 0, sellerId: scope ?? undefined }),
        scope ? [] : names.accountNames(),
      ]);
      const campNames = new Map(camps.items.map((c) => [c.id, c.name]));
      const [sellers, picks] = scope
        ? [new Map<string, string>(), new Map<string, string>()]
        : await Promise.all([names.sellerNames(), names.sellerPicks()]);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const filtered = Object.values(f).some((v) => v !== undefined);
      const campOptions = (sel: string | null, sellerId?: string) =>
        html`<option value="">no campaign</option>${camps.items
          .filter((c) => !sellerId || c.sellerId === sellerId)
          .map((c) => html`<option value="${c.id}"${selected(sel === c.id)}>${c.name}</option>`)}`;
      const body = html`<form method="get" action="/console/dids" class="grid filters" id="did-filters">
<label>Number contains <input name="number" value="${f.number ?? ''}" maxlength="32" inputmode="tel" placeholder="415 555"></label>
${scope ? '' : html`<label>Seller <select name="seller_id"><option value="">every seller</option>${[...sellers].map(([id, n]) => html`<option value="${id}"${selected(f.seller_id === id)}>${n}</option>`)}</select></label>`}
<label>Campaign <select name="campaign_id"><option value="">every campaign</option>${camps.items.map((c) => html`<option value="${c.id}"${selected(f.campaign_id === c.id)}>${c.name}</option>`)}</select></label>
<label>Routed <select name="routed"><option value="">either</option><option value="true"${selected(f.routed === 'true')}>to a campaign</option><option value="false"${selected(f.routed === 'false')}>nowhere</option></select></label>
<label>State <select name="active"><option value="">either</option><option value="true"${selected(f.active === 'true')}>on</option><option value="false"${selected(f.active === 'false')}>switched off</option></select></label>
${scope ? '' : html`<label>Provider account <select name="account"><option value="">any</option>${accounts.map((a) => html`<option value="${a.id}"${selected(f.account === a.id)}>held at ${a.name}</option>`)}<option value="manual"${selected(f.account === 'manual')}>held at none (added by hand)</option></select></label>`}
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button> <a href="/console/dids">Clear</a></form>
${
  write
    ? html`<h2>New DID</h2><form method="post" action="/console/dids" class="grid">${csrfField(ctx)}
<label>Number <input name="number" required placeholder="+14155550100"></label>
${scope ? '' : html`<label>Seller <select name="seller_id" required>${[...picks].map(([id, n]) => html`<option value="${id}">${n}</option>`)}</select></label>`}
<label>Campaign <select name="campaign_id">${campOptions(null)}</select></label>
${staff ? capInputs(null) : ''}
<button type="submit">Add DID</button></form>`
    : ''
}
<h2>DIDs</h2>
${
  list.items.length
    ? html`<div class="scroll"><table id="dids-list"><thead><tr>${th('number', 'Number')}${scope ? '' : html`<th>Seller</th>`}<th>Campaign</th>${th('active', 'On')}<th>Caps: live · hour · day · month · total</th>${th('created_at', 'Since')}${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (
    d,
  ) => html`<tr><td><a href="/console/dids/${d.id}">${d.number}</a></td>${scope ? '' : html`<td>${sellers.get(d.sellerId) ?? d.sellerId}</td>`}
<td>${
    write
      ? html`<form method="post" action="/console/dids/${d.id}" class="inline">${csrfField(ctx)}<select name="campaign_id" aria-label="campaign">${campOptions(d.campaignId, d.sellerId)}</select> <button type="submit">Save</button></form>`
      : (campNames.get(d.campaignId ?? '') ?? 'none')
  }</td><td>${d.active ? 'yes' : 'switched off'}</td><td>${capsSummary(d)}</td><td>${d.createdAt.toISOString().slice(0, 10)}</td>
${write ? html`<td><form method="post" action="/console/dids/${d.id}/delete" class="inline" data-confirm="Delete DID ${d.number}?">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`,
)}</tbody></table></div>${pager('/console/dids', { ...f, ...o }, { ...q, total: list.total })}`
    : empty(filtered ? 'No DIDs match this filter.' : 'No DIDs yet.')
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
<label class="check"><input type="checkbox" name="active"${checked(d.active)}${dis}> On (a number switched off takes no call; its calls' records say <code>did_inactive</code>)</label>
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
        ...fromForm(f, { campaign_id: 'uuidOrNull', active: 'bool', ...(staff ? CAP_SPEC : {}) }),
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
