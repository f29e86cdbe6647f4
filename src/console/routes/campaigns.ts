// Campaigns (caller filters, revenue recovery, hold queue, default route) and their links to clients
// (caps, concurrency by hour of the week, revenue recovery, conversion, payout, revenue and billing
// increment). The campaign page edits a link's caps in its row; the link's page edits everything.
// A seller user works on its own campaigns and links as a seller key does: the link's money is the
// operator's (shown to it without the revenue, never sent by its form).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { CAP_COUNTS, DUP_POLICIES, ROUTING_STRATEGIES } from '../../db/schema/routing.ts';
import type { CampaignRow, LinkRow } from '../../routing/repository.ts';
import {
  campaignCreateBody,
  campaignPatchBody,
  linkCreateBody,
  linkPatchBody,
} from '../../routing/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, may, SELLER_WRITE, scopeOf } from '../access.ts';
import { type FieldKind, fromForm, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import {
  CAP_SPEC,
  capInputs,
  concurrencyFromForm,
  concurrencyGrid,
  defaultRouteFromForm,
  defaultRouteInputs,
  microsText,
  moneyFromForm,
} from '../pages/routing-fields.ts';
import { sendPage, userOf } from '../plugin.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { pageQuery } from '../schemas.ts';
import {
  bodyOf,
  capText,
  cfg,
  changedBy,
  checked,
  deleteOrConfirm,
  done,
  idParams,
  selected,
  when,
} from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

type Names = {
  sellerNames(): Promise<Map<string, string>>;
  /** The sellers a new row may name: not archived. */
  sellerPicks(): Promise<Map<string, string>>;
  clientNames(): Promise<Map<string, string>>;
};

const CAMPAIGN_KEYS = ['name', 'strategy', 'max_attempts', 'active', 'created_at'] as const;

const campaignSpec = {
  name: 'text',
  strategy: 'optText',
  ring_timeout_s: 'int',
  max_attempts: 'int',
  dup_window_h: 'intOrNull',
  dup_policy: 'optText',
  reject_anonymous: 'bool',
  repeat_window_s: 'intOrNull',
  use_blocklist: 'bool',
  caller_regions: 'listOrNull',
  max_reroutes: 'int',
  queue_s: 'intOrNull',
  max_call_s: 'intOrNull',
  record_calls: 'bool',
  active: 'bool',
} as const satisfies Record<string, FieldKind>;

/** The campaign's form fields (all but the default route, which needs the seller's other campaigns). */
function campaignFields(c?: CampaignRow, dis: Html | string = ''): Html {
  return html`
<label>Name <input name="name" value="${c?.name ?? ''}" required maxlength="200"${dis}></label>
<label>Strategy <select name="strategy"${dis}>${ROUTING_STRATEGIES.map((s) => html`<option${selected(c?.strategy === s)}>${s}</option>`)}</select></label>
<label>Ring timeout (s) <input name="ring_timeout_s" type="number" min="1" max="600" value="${c?.ringTimeoutS ?? 30}"${dis}></label>
<label>Attempts at most <input name="max_attempts" type="number" min="1" max="20" value="${c?.maxAttempts ?? 3}"${dis}></label>
<label>Duplicate window (h, empty: none) <input name="dup_window_h" type="number" min="1" value="${c?.dupWindowH ?? ''}"${dis}></label>
<label>Duplicates <select name="dup_policy"${dis}>${DUP_POLICIES.map((p) => html`<option${selected(c?.dupPolicy === p)}>${p}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="active"${checked(c?.active ?? true)}${dis}> Active</label>
<fieldset class="filters"><legend>Caller filters (all off by default)</legend>
<label class="check"><input type="checkbox" name="reject_anonymous"${checked(c?.rejectAnonymous ?? false)}${dis}> Refuse anonymous callers</label>
<label>Refuse a caller calling again within (s, empty: never) <input name="repeat_window_s" type="number" min="1" max="604800" value="${c?.repeatWindowS ?? ''}"${dis}></label>
<label class="check"><input type="checkbox" name="use_blocklist"${checked(c?.useBlocklist ?? false)}${dis}> Refuse callers on the seller's or the global <a href="/console/blocklist">blocklist</a></label>
<label>Only callers from (countries "US", NANP regions "US-NY"; empty: anywhere) <input name="caller_regions" value="${(c?.callerRegions ?? []).join(', ')}" placeholder="US-NY, US-NJ"${dis}></label>
</fieldset>
<fieldset><legend>Revenue recovery, hold queue, call length and recording</legend>
<label>Reroutes after a short answer, at most (0-5; a link's recovery seconds say what is short) <input name="max_reroutes" type="number" min="0" max="5" value="${c?.maxReroutes ?? 1}"${dis}></label>
<label>Hold when every link is at its live cap, for up to (s, empty: no queue) <input name="queue_s" type="number" min="1" max="3600" value="${c?.queueS ?? ''}"${dis}></label>
<label>Longest call once bridged (s, empty: no limit) <input name="max_call_s" type="number" min="1" max="86400" value="${c?.maxCallS ?? ''}"${dis}></label>
<label class="check"><input type="checkbox" name="record_calls"${checked(c?.recordCalls ?? false)}${dis}> Record answered calls (played on each call's page)</label>
</fieldset>`;
}

const linkSpec = {
  ...CAP_SPEC,
  priority: 'int',
  weight: 'int',
  active: 'bool',
} as const satisfies Record<string, FieldKind>;
/** The link page's fields besides the row's; money is added for staff only. */
const linkDetailSpec = {
  ...linkSpec,
  recovery_s: 'intOrNull',
  caps_count: 'optText',
} as const satisfies Record<string, FieldKind>;
const linkMoneySpec = { convert_after_s: 'intOrNull', billing_increment: 'optText' } as const;

export function campaignRoutes(svc: RoutingService, onChange: () => void, names: Names) {
  return async function routes(app: FastifyInstance) {
    const changed = changedBy(onChange);

    app.get('/campaigns', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const q = pageQuery.extend({ seller_id: z.uuid().optional().catch(undefined) }).parse(req.query);
      const o = sortQuery(CAMPAIGN_KEYS, 'created_at', 'desc').parse(req.query);
      const list = await svc.listCampaigns({ ...q, sellerId: scope ?? q.seller_id, order: o });
      const th = (k: (typeof CAMPAIGN_KEYS)[number], label: string) =>
        sortTh('/console/campaigns', { seller_id: q.seller_id }, o, k, label);
      const [sellers, picks] = scope
        ? [new Map<string, string>(), new Map<string, string>()]
        : await Promise.all([names.sellerNames(), names.sellerPicks()]);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const body = html`${
        scope
          ? ''
          : html`<form method="get" action="/console/campaigns" class="grid"><label>Seller <select name="seller_id"><option value="">every seller</option>${[...sellers].map(([id, n]) => html`<option value="${id}"${selected(q.seller_id === id)}>${n}</option>`)}</select></label><input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button></form>`
      }
${
  write
    ? html`<h2>New campaign</h2><form method="post" action="/console/campaigns" class="grid">${csrfField(ctx)}
${scope ? '' : html`<label>Seller <select name="seller_id" required>${[...picks].map(([id, n]) => html`<option value="${id}">${n}</option>`)}</select></label>`}
${campaignFields()}<button type="submit">Create campaign</button></form>`
    : ''
}
<h2>Campaigns</h2>
${
  list.items.length
    ? html`<div class="scroll"><table id="campaigns-list"><thead><tr>${th('name', 'Name')}${scope ? '' : html`<th>Seller</th>`}${th('strategy', 'Strategy')}${th('max_attempts', 'Attempts')}${th('active', 'Active')}${th('created_at', 'Since')}</tr></thead><tbody>
${list.items.map(
  (
    c,
  ) => html`<tr><td><a href="/console/campaigns/${c.id}">${c.name}</a></td>${scope ? '' : html`<td>${sellers.get(c.sellerId) ?? c.sellerId}</td>`}
<td>${c.strategy}</td><td>${c.maxAttempts}</td><td>${c.active ? 'yes' : 'no'}</td><td>${when(c.createdAt)}</td></tr>`,
)}</tbody></table></div>${pager('/console/campaigns', { seller_id: q.seller_id, ...o }, { ...q, total: list.total })}`
    : empty('No campaigns yet.')
}`;
      return sendPage(reply, layout(ctx, 'Campaigns', body));
    });

    app.get('/campaigns/:id', { config: cfg(EVERYONE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const user = userOf(req);
      const scope = scopeOf(user);
      const c = await svc.campaign(id, scope);
      const [ls, ds, siblings] = await Promise.all([
        svc.linksOfCampaign(id, scope),
        svc.listDids({ limit: 500, offset: 0, sellerId: scope, campaignId: id }),
        svc.listCampaigns({ limit: 500, offset: 0, sellerId: c.sellerId }),
      ]);
      // Staff pick clients by name; a seller names them by id, as a seller key does.
      const clients = scope ? null : await names.clientNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const dis = write ? '' : html` disabled`;
      const capInput = (name: string, v: number | null) =>
        html`<input name="${name}" type="number" min="0" value="${capText(v)}" aria-label="${name}" class="cap"${dis}>`;
      const others = siblings.items.filter((x) => x.id !== c.id);
      const body = html`<form method="post" action="/console/campaigns/${c.id}" class="grid" id="campaign-form">${csrfField(ctx)}
${campaignFields(c, dis)}
${defaultRouteInputs(c.defaultRoute ?? null, others, dis)}
${write ? html`<button type="submit">Save</button>` : ''}</form>
<h2>Links to clients</h2>
${
  ls.length
    ? html`<div class="scroll"><table id="campaign-links"><thead><tr><th>Client</th><th colspan="8">Caps: live · hour · day · month · total (empty: none) — priority · weight · active</th><th>Answered</th><th></th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${ls.map(
  (l) => html`<tr><td>${clients?.get(l.clientId) ?? l.clientId}</td>
<td colspan="8"><form method="post" action="/console/links/${l.id}" id="link-${l.id}" class="row">${csrfField(ctx)}
${capInput('concurrency_cap', l.concurrencyCap)}${capInput('hourly_cap', l.hourlyCap)}${capInput('daily_cap', l.dailyCap)}${capInput('monthly_cap', l.monthlyCap)}${capInput('total_cap', l.totalCap)}
<input name="priority" type="number" min="0" max="1000" value="${l.priority}" aria-label="priority" class="cap"${dis}>
<input name="weight" type="number" min="1" max="10000" value="${l.weight}" aria-label="weight" class="cap"${dis}>
<label class="check"><input type="checkbox" name="active"${checked(l.active)}${dis}> on</label>
${write ? html`<button type="submit">Save</button>` : ''}</form></td>
<td>${l.totalAnswered}</td>
<td><a href="/console/links/${l.id}">${write ? 'More settings' : 'Details'}</a></td>
${write ? html`<td><form method="post" action="/console/links/${l.id}/delete" class="inline" data-confirm="Remove this link?">${csrfField(ctx)}<button type="submit" class="link">Remove</button></form></td>` : ''}</tr>`,
)}</tbody></table></div>`
    : empty('No links: calls to this campaign have nowhere to go.')
}
${
  write
    ? html`<h2>Link a client</h2><form method="post" action="/console/campaigns/${c.id}/links" class="grid">${csrfField(ctx)}
${clients ? html`<label>Client <select name="client_id" required>${[...clients].map(([cid, n]) => html`<option value="${cid}">${n}</option>`)}</select></label>` : html`<label>Client id <input name="client_id" required pattern="[0-9a-fA-F-]{36}"></label>`}
<label>Live cap <input name="concurrency_cap" type="number" min="0"></label>
<label>Hourly cap <input name="hourly_cap" type="number" min="0"></label>
<label>Daily cap <input name="daily_cap" type="number" min="0"></label>
<label>Monthly cap <input name="monthly_cap" type="number" min="0"></label>
<label>Total cap <input name="total_cap" type="number" min="0"></label>
<label>Priority <input name="priority" type="number" min="0" max="1000" value="0"></label>
<label>Weight <input name="weight" type="number" min="1" max="10000" value="1"></label>
<label class="check"><input type="checkbox" name="active" checked> Active</label>
<button type="submit">Add link</button></form>`
    : ''
}
<h2>DIDs</h2>
${ds.items.length ? html`<ul>${ds.items.map((d) => html`<li><a href="/console/dids/${d.id}">${d.number}</a></li>`)}</ul>` : empty('No DID routes to this campaign.')}
${write ? html`<h2>Delete</h2><form method="post" action="/console/campaigns/${c.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Delete campaign</button></form>` : ''}`;
      return sendPage(reply, layout(ctx, `Campaign ${c.name}`, body));
    });

    app.post('/campaigns', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const b = validate(campaignCreateBody, fromForm(req.body, { ...campaignSpec, seller_id: 'optUuid' }));
      const c = await svc.createCampaign(b, scopeOf(userOf(req)), req.actor);
      return done(reply, `/console/campaigns/${c!.id}`, 'created');
    });
    app.post('/campaigns/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const f = bodyOf(req);
      // A form without the default route's fields leaves the default route alone.
      const b = {
        ...fromForm(f, campaignSpec),
        ...('dr_kind' in f ? { default_route: defaultRouteFromForm(f) } : {}),
      };
      changed(await svc.updateCampaign(id, validate(campaignPatchBody, b), scopeOf(userOf(req)), req.actor));
      return done(reply, `/console/campaigns/${id}`);
    });
    app.post('/campaigns/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      return deleteOrConfirm(req, reply, {
        title: 'Delete campaign',
        page: `/console/campaigns/${id}`,
        list: '/console/campaigns',
        run: async (cascade) =>
          changed(await svc.deleteCampaign(id, cascade, scopeOf(userOf(req)), req.actor)),
        lines: (h: { dids: number; links: number }) => [
          `${h.links} link(s) to clients are removed`,
          `${h.dids} DID(s) are detached (they stay, routed nowhere)`,
        ],
      });
    });

    // ------------------------------------------------------------ links
    app.get('/links/:id', { config: cfg(EVERYONE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const user = userOf(req);
      const scope = scopeOf(user);
      const l = await svc.link(id, scope);
      const c = await svc.campaign(l.campaignId, scope);
      const client = scope ? null : await svc.client(l.clientId);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const dis = write ? '' : html` disabled`;
      // Money is the operator's to set: a seller user sees its payout and the rule, not the revenue.
      const moneyDis = write && !scope ? '' : html` disabled`;
      const body = html`<p>Campaign <a href="/console/campaigns/${c.id}">${c.name}</a> → client ${client?.name ?? l.clientId}; ${l.totalAnswered} answered so far.</p>
<form method="post" action="/console/links/${l.id}/settings" class="grid" id="link-form">${csrfField(ctx)}
<fieldset><legend>Caps (empty: none; hour, day and month in the client's time zone)</legend>${capInputs(l, dis)}
<label>Caps count <select name="caps_count"${dis}>${CAP_COUNTS.map((k) => html`<option${selected(l.capsCount === k)}>${k}</option>`)}</select></label></fieldset>
<label>Priority <input name="priority" type="number" min="0" max="1000" value="${l.priority}"${dis}></label>
<label>Weight <input name="weight" type="number" min="1" max="10000" value="${l.weight}"${dis}></label>
<label class="check"><input type="checkbox" name="active"${checked(l.active)}${dis}> Active</label>
<label>Revenue recovery: a client hanging up within (s, empty: off) sends the caller on <input name="recovery_s" type="number" min="1" max="600" value="${l.recoveryS ?? ''}"${dis}></label>
<fieldset><legend>Money (set by staff)</legend>
<label>Converts at talk seconds (empty: never) <input name="convert_after_s" type="number" min="0" max="86400" value="${l.convertAfterS ?? ''}"${moneyDis}></label>
<label>Payout to the seller per converted call <input name="payout" inputmode="decimal" value="${microsText(l.payoutMicros)}"${moneyDis}></label>
${scope ? '' : html`<label>Revenue from the client per converted call <input name="revenue" inputmode="decimal" value="${microsText(l.revenueMicros)}"${moneyDis}></label>`}
<label>Billing increment (first/next seconds: 1/1, 6/6, 60/60) <input name="billing_increment" value="${l.billingIncrement}" pattern="[0-9]+/[0-9]+"${moneyDis}></label>
</fieldset>
<fieldset class="hours"><legend>Live cap by hour of the week, in the client's time zone (empty: the live cap above). Lowering it never ends a call: new calls wait until enough have ended.</legend>
${concurrencyGrid(l.concurrencySchedule ?? null, dis)}</fieldset>
${write ? html`<button type="submit">Save</button>` : ''}</form>`;
      return sendPage(reply, layout(ctx, 'Link', body));
    });

    app.post('/campaigns/:id/links', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const b = validate(linkCreateBody, fromForm(req.body, { client_id: 'text', ...linkSpec }));
      changed(await svc.createLink(id, b, scopeOf(userOf(req)), req.actor));
      return done(reply, `/console/campaigns/${id}`, 'created');
    });
    app.post('/links/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const l = changed(
        await svc.updateLink(
          id,
          validate(linkPatchBody, fromForm(req.body, linkSpec)),
          scopeOf(userOf(req)),
          req.actor,
        ),
      );
      return done(reply, `/console/campaigns/${l!.campaignId}`);
    });
    app.post('/links/:id/settings', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const scope = scopeOf(userOf(req));
      const f = bodyOf(req);
      const b = {
        ...fromForm(f, linkDetailSpec),
        concurrency_schedule: concurrencyFromForm(f),
        // A seller user's form carries no money; staff's does, in currency units.
        ...(scope
          ? {}
          : {
              ...fromForm(f, linkMoneySpec),
              ...moneyFromForm(f, { payout: 'payout_micros', revenue: 'revenue_micros' }),
            }),
      };
      const l: LinkRow = changed(await svc.updateLink(id, validate(linkPatchBody, b), scope, req.actor));
      return done(reply, `/console/links/${l.id}`);
    });
    app.post('/links/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const scope = scopeOf(userOf(req));
      const l = await svc.link(id, scope);
      changed(await svc.deleteLink(id, scope, req.actor));
      return done(reply, `/console/campaigns/${l.campaignId}`, 'deleted');
    });
  };
}
