// Webhook subscriptions, as `/v1/webhooks`: staff see and make any (for one seller's events or all),
// a seller user its own seller's only; viewers look. The signing secret is shown once, on the answer
// to the form; each subscription's page lists its deliveries and sends a test delivery. Through the
// webhook service with the API's schema.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { WEBHOOK_EVENTS } from '../../db/schema/provisioning.ts';
import { WEBHOOK_SORTS } from '../../provisioning/webhooks/repository.ts';
import { webhookIn, webhookPatch, webhooksQuery } from '../../provisioning/schemas.ts';
import { SIGNATURE_HEADER } from '../../provisioning/webhooks/sign.ts';
import type { Subscription, WebhookService } from '../../provisioning/webhooks/service.ts';
import type { RoutingService } from '../../routing/service.ts';
import { EVERYONE, may, SELLER_WRITE, scopeOf } from '../access.ts';
import { validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout, type PageCtx, pager } from '../pages/layout.ts';
import { boolChoice, choice, sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { sendPage, userOf } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { numberTabs } from './provider-accounts.ts';
import { ctxOf, flashOf } from './users.ts';

const PATH = '/console/numbers/webhooks';
const idParams = z.object({ id: z.uuid() });
const at = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 19) : '');
/** The deliveries a subscription's page lists (the newest). */
const DELIVERIES_SHOWN = 100;
const SORTS = sortKeys(WEBHOOK_SORTS);
/** The list's filter form as it arrives; the API's query schema checks what it becomes. */
const filterForm = z.object({
  active: boolChoice,
  event: choice(z.string().max(100)),
  seller_id: choice(z.string().max(64)),
});

/** Pauses or resumes a subscription (the API's PATCH `active`). */
function toggle(ctx: PageCtx, x: Subscription, back: 'list' | 'page' = 'page') {
  return html`<form method="post" action="${PATH}/${x.id}/active" class="inline" data-webhook-toggle="${x.id}">${csrfField(ctx)}<input type="hidden" name="active" value="${x.active ? 'false' : 'true'}"><input type="hidden" name="back" value="${back}"><button type="submit" class="link">${x.active ? 'pause' : 'resume'}</button></form>`;
}

export function webhookRoutes(hooks: WebhookService | undefined, routing: RoutingService) {
  return async function routes(app: FastifyInstance) {
    const read = { console: { roles: EVERYONE } };
    const write = { console: { roles: SELLER_WRITE } };
    const none = (req: FastifyRequest, reply: FastifyReply) =>
      sendPage(
        reply,
        layout(ctxOf(req), 'Webhooks', empty('The provisioning module does not run on this instance.')),
      );

    app.get('/numbers/webhooks', { config: read }, async (req, reply) => {
      if (!hooks) return none(req, reply);
      const ctx = ctxOf(req, flashOf(req));
      const scope = scopeOf(ctx.user);
      const w = may(ctx.user, SELLER_WRITE);
      const p = pageQuery.parse(req.query);
      const f = filterForm.parse(req.query);
      // The filter is the API's query, checked by its schema (a bad value is its 400).
      const q = validate(webhooksQuery, {
        ...p,
        active: f.active,
        event: f.event,
        seller_id: scope ? undefined : f.seller_id,
      });
      const o = sortQuery(SORTS, 'created_at', 'desc').parse(req.query);
      const [subs, sellers] = await Promise.all([
        hooks.list(scope, {
          ...q,
          sellerId: q.seller_id === 'every' ? null : q.seller_id,
          order: o,
        }),
        scope ? null : routing.listSellers({ limit: 500, offset: 0 }),
      ]);
      const sellerName = new Map((sellers?.items ?? []).map((x) => [x.id, x.name]));
      const keep = { active: f.active, event: q.event, seller_id: q.seller_id };
      const th = (k: (typeof SORTS)[number], label: string) => sortTh(PATH, keep, o, k, label);
      const filtered = Object.values(keep).some(Boolean);
      const sel = (cur: string | undefined, v: string) => (cur === v ? html` selected` : '');
      const body = html`${numberTabs('webhooks')}
<section><h2>Subscriptions</h2>
<form method="get" action="${PATH}" class="grid" id="webhook-filter">
<label>State <select name="active"><option value="">any</option><option value="true"${sel(f.active, 'true')}>active</option><option value="false"${sel(f.active, 'false')}>paused</option></select></label>
<label>Event <select name="event"><option value="">any</option>${WEBHOOK_EVENTS.map((e) => html`<option${sel(q.event, e)}>${e}</option>`)}</select></label>
${scope ? '' : html`<label>Seller <select name="seller_id"><option value="">any</option><option value="every"${sel(q.seller_id, 'every')}>every seller's events</option>${(sellers?.items ?? []).map((x) => html`<option value="${x.id}"${sel(q.seller_id, x.id)}>${x.name}</option>`)}</select></label>`}
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button>${filtered ? html` <a href="${PATH}">Clear</a>` : ''}</form>
${
  subs.items.length
    ? html`<div class="scroll"><table id="webhooks"><thead><tr>${th('url', 'URL')}<th>Events</th>${scope ? '' : html`<th>Seller</th>`}${th('active', 'Active')}${th('created_at', 'Created (UTC)')}<th></th></tr></thead><tbody>
${subs.items.map(
  (
    x,
  ) => html`<tr data-webhook="${x.id}"><td><a href="${PATH}/${x.id}">${x.url}</a></td><td>${x.events.join(', ')}</td>${scope ? '' : html`<td>${x.sellerId ? (sellerName.get(x.sellerId) ?? x.sellerId) : 'every seller'}</td>`}<td>${x.active ? 'yes' : html`<strong>no</strong>`}${w ? html` ${toggle(ctx, x, 'list')}` : ''}</td><td>${at(x.createdAt)}</td>
<td>${w ? html`<form method="post" action="${PATH}/${x.id}/delete" class="inline" data-confirm="Delete the subscription to ${x.url}? Its pending deliveries are not sent.">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form>` : ''}</td></tr>`,
)}</tbody></table></div>${pager(PATH, { ...keep, ...o }, { ...p, total: subs.total })}`
    : empty(filtered ? 'No subscription matches the filter.' : 'No webhook subscriptions.')
}</section>
${
  w
    ? html`<section><h2>Subscribe</h2>
<form method="post" action="${PATH}" class="grid" id="webhook-form">${csrfField(ctx)}
<label class="wide">URL (https, answered within the timeout) <input name="url" type="url" required maxlength="2000" placeholder="https://example.com/hooks/capconduit"></label>
<fieldset class="wide"><legend>Events</legend>${WEBHOOK_EVENTS.map((e) => html`<label class="check"><input type="checkbox" name="events" value="${e}" checked> ${e}</label> `)}</fieldset>
${scope ? '' : html`<label>Seller <select name="seller_id"><option value="">every seller's events</option>${(sellers?.items ?? []).filter((x) => !x.archivedAt).map((x) => html`<option value="${x.id}">${x.name}</option>`)}</select></label>`}
<button type="submit">Subscribe</button></form></section>`
    : ''
}`;
      return sendPage(reply, layout(ctx, 'Webhooks', body));
    });

    app.get('/numbers/webhooks/:id', { config: read }, async (req, reply) => {
      if (!hooks) return none(req, reply);
      const { id } = validate(idParams, req.params);
      const ctx = ctxOf(req, flashOf(req));
      const scope = scopeOf(ctx.user);
      const sub = await hooks.get(id, scope);
      const list = await hooks.deliveries(id, scope, DELIVERIES_SHOWN);
      // While a delivery waits the page reloads itself (a refresh header, no script).
      if (list.some((x) => x.status === 'pending')) reply.header('refresh', '2');
      const body = html`${numberTabs('webhooks')}
<dl class="secret"><dt>URL</dt><dd>${sub.url}</dd><dt>Events</dt><dd>${sub.events.join(', ')}</dd><dt>Created</dt><dd>${at(sub.createdAt)} UTC</dd>
<dt>Active</dt><dd id="webhook-active">${sub.active ? 'yes: new events are delivered' : 'no: paused, new events are not delivered'}${may(ctx.user, SELLER_WRITE) ? html` ${toggle(ctx, sub)}` : ''}</dd></dl>
${
  may(ctx.user, SELLER_WRITE)
    ? html`<form method="post" action="${PATH}/${id}/test" class="inline" id="webhook-test">${csrfField(ctx)}<button type="submit">Send a test delivery</button></form>`
    : ''
}
<h2>Deliveries <span class="count">(the latest ${DELIVERIES_SHOWN})</span></h2>
${
  list.length
    ? html`<div class="scroll"><table id="deliveries"><thead><tr><th>Made (UTC)</th><th>Event</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Last error</th><th>Delivered (UTC)</th></tr></thead><tbody>
${list.map(
  (x) =>
    html`<tr data-delivery="${x.id}" data-status="${x.status}"><td>${at(x.createdAt)}</td><td>${x.event}</td><td>${x.status}</td><td>${x.attempts}</td><td>${x.lastStatus ?? ''}</td><td>${x.lastError ?? ''}</td><td>${at(x.deliveredAt)}</td></tr>`,
)}</tbody></table></div>`
    : empty('Nothing delivered yet.')
}
<p><a href="${PATH}">Back to webhooks</a></p>`;
      return sendPage(reply, layout(ctx, 'Webhook deliveries', body));
    });

    if (!hooks) return;
    const h = hooks;

    app.post('/numbers/webhooks', { config: write }, async (req, reply) => {
      const f = (req.body ?? {}) as Record<string, unknown>;
      const scope = scopeOf(userOf(req));
      const events = [f.events ?? []].flat();
      const b = validate(webhookIn, {
        url: typeof f.url === 'string' ? f.url.trim() : '',
        events,
        ...(!scope && typeof f.seller_id === 'string' && f.seller_id ? { seller_id: f.seller_id } : {}),
      });
      // As the API: a seller's subscription is its own seller's, whatever the form says.
      const { row, secret } = await h.create(
        {
          url: b.url,
          events: b.events,
          sellerId: scope ?? b.seller_id ?? null,
        },
        req.actor,
      );
      const body = html`<div class="flash ok" role="status">Copy the signing secret now: it is not shown again.</div>
<p><code class="secret" data-testid="webhook-secret">${secret}</code></p>
<p>Each delivery is a POST of JSON signed in the <code>${SIGNATURE_HEADER}</code> header as <code>t=&lt;unix seconds&gt;,v1=&lt;hex&gt;</code>: the HMAC-SHA256 of <code>&lt;t&gt;.&lt;body&gt;</code> with this secret. Refuse a signature that does not match or whose time is more than a few minutes off.</p>
<p><a href="${PATH}/${row.id}">Deliveries of this subscription</a> · <a href="${PATH}">Back to webhooks</a></p>`;
      return sendPage(reply, layout(ctxOf(req), `Webhook to ${row.url} created`, body), 201);
    });

    app.post('/numbers/webhooks/:id/test', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await h.test(id, scopeOf(userOf(req)));
      return reply.redirect(`${PATH}/${id}?done=test`, 303);
    });

    app.post('/numbers/webhooks/:id/active', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      const f = (req.body ?? {}) as Record<string, unknown>;
      const b = validate(webhookPatch, {
        active: f.active === 'true' ? true : f.active === 'false' ? false : f.active,
      });
      await h.setActive(id, scopeOf(userOf(req)), b.active, req.actor);
      // Back where the change was made: the list, or the subscription's own page.
      const back = typeof f.back === 'string' && f.back === 'list' ? PATH : `${PATH}/${id}`;
      return reply.redirect(`${back}?done=saved`, 303);
    });

    app.post('/numbers/webhooks/:id/delete', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await h.remove(id, scopeOf(userOf(req)), req.actor);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });
  };
}
