// Routing pages: sellers, clients (schedule and time zone), campaigns with their links and DIDs.
// Every change goes through the routing service with the API's own zod schemas, so the console
// validates, refuses and confirms exactly as the API does; a seller user is scoped like a seller key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DUP_POLICIES, ROUTING_STRATEGIES } from '../../db/schema/routing.ts';
import { AppError } from '../../platform/http/errors.ts';
import type { RoutingService } from '../../routing/service.ts';
import {
  campaignCreateBody,
  campaignPatchBody,
  clientBody,
  didCreateBody,
  didPatchBody,
  linkCreateBody,
  linkPatchBody,
  sellerBody,
} from '../../routing/schemas.ts';
import { EVERYONE, may, SELLER_WRITE, STAFF_READ, STAFF_WRITE, scopeOf } from '../access.ts';
import { dayName, fromForm, scheduleFromForm, scheduleText, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { sendPage, userOf } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ctxOf, flashOf } from './users.ts';

const idParams = z.object({ id: z.uuid() });
const cfg = (roles: readonly string[]) => ({ console: { roles: roles as typeof EVERYONE } });
const done = (reply: FastifyReply, to: string, what = 'saved') =>
  reply.redirect(`${to}${to.includes('?') ? '&' : '?'}done=${what}`, 303);
const yes = (v: unknown) => v === 'on' || v === 'true';
const bodyOf = (req: FastifyRequest) => (req.body ?? {}) as Record<string, unknown>;
const checked = (b: boolean) => (b ? html` checked` : '');
const selected = (b: boolean) => (b ? html` selected` : '');
const when = (d: Date) => d.toISOString().slice(0, 10);
const capText = (n: number | null) => (n === null ? '' : String(n));

/** Asked when a delete would take other rows with it: says what it removes, then deletes with cascade. */
function confirmCascade(
  req: FastifyRequest,
  title: string,
  action: string,
  lines: string[],
  back: string,
): Html {
  const ctx = ctxOf(req);
  return layout(
    ctx,
    title,
    html`<p class="flash error" role="alert">This delete takes other rows with it:</p>
<ul>${lines.map((l) => html`<li>${l}</li>`)}</ul>
<form method="post" action="${action}" class="inline">${csrfField(ctx)}<input type="hidden" name="cascade" value="true">
<button type="submit" class="danger">Delete all of it</button></form> <a href="${back}">Cancel</a>`,
  );
}

export function routingRoutes(svc: RoutingService, onChange: () => void) {
  return async function routes(app: FastifyInstance) {
    /** Every seller's name, for the pages of users who see every seller. */
    const sellerNames = async () =>
      new Map((await svc.listSellers({ limit: 500, offset: 0 })).items.map((s) => [s.id, s.name]));
    const clientNames = async () =>
      new Map((await svc.listClients({ limit: 500, offset: 0 })).items.map((c) => [c.id, c.name]));
    const changed = <T>(v: T) => {
      onChange();
      return v;
    };

    // ------------------------------------------------------------ sellers
    app.get('/sellers', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const q = pageQuery.parse(req.query);
      const list = await svc.listSellers(q);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const body = html`${
        write
          ? html`<form method="post" action="/console/sellers" class="grid">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="200"></label>
<label class="check"><input type="checkbox" name="active" checked> Active</label>
<button type="submit">Add seller</button></form>`
          : ''
      }
${
  list.items.length
    ? html`<table><thead><tr><th>Name</th><th>Active</th><th>Since</th><th>Id</th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (s) => html`<tr>${
    write
      ? html`<td colspan="2"><form method="post" action="/console/sellers/${s.id}" class="inline">${csrfField(ctx)}
<input name="name" value="${s.name}" required maxlength="200" aria-label="name"> <label class="check"><input type="checkbox" name="active"${checked(s.active)}> active</label> <button type="submit">Save</button></form></td>`
      : html`<td>${s.name}</td><td>${s.active ? 'yes' : 'no'}</td>`
  }
<td>${when(s.createdAt)}</td><td><code>${s.id}</code></td>
${write ? html`<td><form method="post" action="/console/sellers/${s.id}/delete" class="inline" data-confirm="Delete seller ${s.name}?">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`,
)}</tbody></table>${pager('/console/sellers', {}, { ...q, total: list.total })}`
    : empty('No sellers yet.')
}`;
      return sendPage(reply, layout(ctx, 'Sellers', body));
    });
    app.post('/sellers', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      await svc.createSeller(validate(sellerBody, fromForm(req.body, { name: 'text', active: 'bool' })));
      return done(reply, '/console/sellers', 'created');
    });
    app.post('/sellers/:id', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(
        await svc.updateSeller(
          id,
          validate(sellerBody, fromForm(req.body, { name: 'text', active: 'bool' })),
        ),
      );
      return done(reply, '/console/sellers');
    });
    app.post('/sellers/:id/delete', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.deleteSeller(id));
      return done(reply, '/console/sellers', 'deleted');
    });

    // ------------------------------------------------------------ clients
    const clientForm = (b: unknown) => ({
      ...fromForm(b, { name: 'text', endpoint: 'text', timezone: 'textOrNull', active: 'bool' }),
      schedule: scheduleFromForm(b),
    });
    app.get('/clients', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const q = pageQuery.parse(req.query);
      const list = await svc.listClients(q);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const body = html`${
        write
          ? html`<form method="post" action="/console/clients" class="grid">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="200"></label>
<label>Endpoint or dial string <input name="endpoint" required placeholder="centre-1 or PJSIP/1000@trunk"></label>
<label>Time zone <input name="timezone" placeholder="America/New_York"></label>
<label class="check"><input type="checkbox" name="active" checked> Active</label>
<button type="submit">Add client</button></form>`
          : ''
      }
${
  list.items.length
    ? html`<table><thead><tr><th>Name</th><th>Endpoint</th><th>Time zone</th><th>Open hours</th><th>Active</th><th></th></tr></thead><tbody>
${list.items.map(
  (c) => html`<tr><td>${c.name}</td><td><code>${c.endpoint}</code></td><td>${c.timezone ?? 'default'}</td>
<td>${c.schedule ? Object.keys(c.schedule).length + ' days set' : 'always open'}</td><td>${c.active ? 'yes' : 'no'}</td>
<td><a href="/console/clients/${c.id}">${write ? 'Edit' : 'View'}</a></td></tr>`,
)}</tbody></table>${pager('/console/clients', {}, { ...q, total: list.total })}`
    : empty('No clients yet.')
}`;
      return sendPage(reply, layout(ctx, 'Clients', body));
    });
    app.get('/clients/:id', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const c = await svc.client(id);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const dis = write ? '' : html` disabled`;
      const body = html`<form method="post" action="/console/clients/${c.id}" class="grid">${csrfField(ctx)}
<label>Name <input name="name" value="${c.name}" required maxlength="200"${dis}></label>
<label>Endpoint or dial string <input name="endpoint" value="${c.endpoint}" required${dis}></label>
<label>Time zone (empty: the daemon's default) <input name="timezone" value="${c.timezone ?? ''}"${dis}></label>
<label class="check"><input type="checkbox" name="active"${checked(c.active)}${dis}> Active</label>
<fieldset class="schedule"><legend>Open hours in the client's time zone (empty everywhere: always open; e.g. 09:00-12:00, 13:00-17:30)</legend>
${[0, 1, 2, 3, 4, 5, 6].map((d) => html`<label>${dayName(d)} <input name="schedule_${d}" value="${scheduleText(c.schedule?.[String(d) as '0'])}" placeholder="closed"${dis}></label>`)}
</fieldset>
${write ? html`<button type="submit">Save</button>` : ''}</form>
${write ? html`<h2>Delete</h2><form method="post" action="/console/clients/${c.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Delete client</button></form>` : ''}`;
      return sendPage(reply, layout(ctx, `Client ${c.name}`, body));
    });
    app.post('/clients', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const b = validate(clientBody, clientForm(req.body));
      const c = await svc.createClient(b);
      return done(reply, `/console/clients/${c!.id}`, 'created');
    });
    app.post('/clients/:id', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.updateClient(id, validate(clientBody, clientForm(req.body))));
      return done(reply, `/console/clients/${id}`);
    });
    app.post('/clients/:id/delete', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      try {
        changed(await svc.deleteClient(id, yes(bodyOf(req).cascade)));
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'IN_USE') throw e;
        const n = (e.details as { links: number }).links;
        return sendPage(
          reply,
          confirmCascade(
            req,
            'Delete client',
            `/console/clients/${id}/delete`,
            [`${n} link(s) to campaigns are removed`],
            `/console/clients/${id}`,
          ),
          409,
        );
      }
      return done(reply, '/console/clients', 'deleted');
    });

    // ------------------------------------------------------------ campaigns
    const campaignSpec = {
      name: 'text',
      strategy: 'optText',
      ring_timeout_s: 'int',
      max_attempts: 'int',
      dup_window_h: 'intOrNull',
      dup_policy: 'optText',
      active: 'bool',
    } as const;
    const campaignFields = (
      c?: {
        name: string;
        strategy: string;
        ringTimeoutS: number;
        maxAttempts: number;
        dupWindowH: number | null;
        dupPolicy: string;
        active: boolean;
      },
      dis: Html | string = '',
    ) => html`
<label>Name <input name="name" value="${c?.name ?? ''}" required maxlength="200"${dis}></label>
<label>Strategy <select name="strategy"${dis}>${ROUTING_STRATEGIES.map((s) => html`<option${selected(c?.strategy === s)}>${s}</option>`)}</select></label>
<label>Ring timeout (s) <input name="ring_timeout_s" type="number" min="1" max="600" value="${c?.ringTimeoutS ?? 30}"${dis}></label>
<label>Attempts at most <input name="max_attempts" type="number" min="1" max="20" value="${c?.maxAttempts ?? 3}"${dis}></label>
<label>Duplicate window (h, empty: none) <input name="dup_window_h" type="number" min="1" value="${c?.dupWindowH ?? ''}"${dis}></label>
<label>Duplicates <select name="dup_policy"${dis}>${DUP_POLICIES.map((p) => html`<option${selected(c?.dupPolicy === p)}>${p}</option>`)}</select></label>
<label class="check"><input type="checkbox" name="active"${checked(c?.active ?? true)}${dis}> Active</label>`;

    app.get('/campaigns', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const q = pageQuery.extend({ seller_id: z.uuid().optional().catch(undefined) }).parse(req.query);
      const list = await svc.listCampaigns({ ...q, sellerId: scope ?? q.seller_id });
      const names = scope ? new Map<string, string>() : await sellerNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const body = html`${
        scope
          ? ''
          : html`<form method="get" action="/console/campaigns" class="grid"><label>Seller <select name="seller_id"><option value="">every seller</option>${[...names].map(([id, n]) => html`<option value="${id}"${selected(q.seller_id === id)}>${n}</option>`)}</select></label><button type="submit">Filter</button></form>`
      }
${
  write
    ? html`<h2>New campaign</h2><form method="post" action="/console/campaigns" class="grid">${csrfField(ctx)}
${scope ? '' : html`<label>Seller <select name="seller_id" required>${[...names].map(([id, n]) => html`<option value="${id}">${n}</option>`)}</select></label>`}
${campaignFields()}<button type="submit">Create campaign</button></form>`
    : ''
}
<h2>Campaigns</h2>
${
  list.items.length
    ? html`<table><thead><tr><th>Name</th>${scope ? '' : html`<th>Seller</th>`}<th>Strategy</th><th>Attempts</th><th>Active</th><th>Since</th></tr></thead><tbody>
${list.items.map(
  (
    c,
  ) => html`<tr><td><a href="/console/campaigns/${c.id}">${c.name}</a></td>${scope ? '' : html`<td>${names.get(c.sellerId) ?? c.sellerId}</td>`}
<td>${c.strategy}</td><td>${c.maxAttempts}</td><td>${c.active ? 'yes' : 'no'}</td><td>${when(c.createdAt)}</td></tr>`,
)}</tbody></table>${pager('/console/campaigns', { seller_id: q.seller_id }, { ...q, total: list.total })}`
    : empty('No campaigns yet.')
}`;
      return sendPage(reply, layout(ctx, 'Campaigns', body));
    });

    app.get('/campaigns/:id', { config: cfg(EVERYONE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const user = userOf(req);
      const scope = scopeOf(user);
      const c = await svc.campaign(id, scope);
      const [ls, ds] = await Promise.all([
        svc.linksOfCampaign(id, scope),
        svc.listDids({ limit: 500, offset: 0, sellerId: scope, campaignId: id }),
      ]);
      // Staff pick clients by name; a seller names them by id, as a seller key does.
      const clients = scope ? null : await clientNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const dis = write ? '' : html` disabled`;
      const capInput = (name: string, v: number | null) =>
        html`<input name="${name}" type="number" min="0" value="${capText(v)}" aria-label="${name}" class="cap"${dis}>`;
      const body = html`<form method="post" action="/console/campaigns/${c.id}" class="grid">${csrfField(ctx)}
${campaignFields(c, dis)}${write ? html`<button type="submit">Save</button>` : ''}</form>
<h2>Links to clients</h2>
${
  ls.length
    ? html`<div class="scroll"><table id="campaign-links"><thead><tr><th>Client</th><th colspan="8">Caps: live · hour · day · month · total (empty: none) — priority · weight · active</th><th>Answered</th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${ls.map(
  (l) => html`<tr><td>${clients?.get(l.clientId) ?? l.clientId}</td>
<td colspan="8"><form method="post" action="/console/links/${l.id}" id="link-${l.id}" class="row">${csrfField(ctx)}
${capInput('concurrency_cap', l.concurrencyCap)}${capInput('hourly_cap', l.hourlyCap)}${capInput('daily_cap', l.dailyCap)}${capInput('monthly_cap', l.monthlyCap)}${capInput('total_cap', l.totalCap)}
<input name="priority" type="number" min="0" max="1000" value="${l.priority}" aria-label="priority" class="cap"${dis}>
<input name="weight" type="number" min="1" max="10000" value="${l.weight}" aria-label="weight" class="cap"${dis}>
<label class="check"><input type="checkbox" name="active"${checked(l.active)}${dis}> on</label>
${write ? html`<button type="submit">Save</button>` : ''}</form></td>
<td>${l.totalAnswered}</td>
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
${ds.items.length ? html`<ul>${ds.items.map((d) => html`<li>${d.number}</li>`)}</ul>` : empty('No DID routes to this campaign.')}
${write ? html`<h2>Delete</h2><form method="post" action="/console/campaigns/${c.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Delete campaign</button></form>` : ''}`;
      return sendPage(reply, layout(ctx, `Campaign ${c.name}`, body));
    });

    app.post('/campaigns', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const b = validate(campaignCreateBody, fromForm(req.body, { ...campaignSpec, seller_id: 'optUuid' }));
      const c = await svc.createCampaign(b, scopeOf(userOf(req)));
      return done(reply, `/console/campaigns/${c!.id}`, 'created');
    });
    app.post('/campaigns/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(
        await svc.updateCampaign(
          id,
          validate(campaignPatchBody, fromForm(req.body, campaignSpec)),
          scopeOf(userOf(req)),
        ),
      );
      return done(reply, `/console/campaigns/${id}`);
    });
    app.post('/campaigns/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      try {
        changed(await svc.deleteCampaign(id, yes(bodyOf(req).cascade), scopeOf(userOf(req))));
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'IN_USE') throw e;
        const h = e.details as { dids: number; links: number };
        return sendPage(
          reply,
          confirmCascade(
            req,
            'Delete campaign',
            `/console/campaigns/${id}/delete`,
            [
              `${h.links} link(s) to clients are removed`,
              `${h.dids} DID(s) are detached (they stay, routed nowhere)`,
            ],
            `/console/campaigns/${id}`,
          ),
          409,
        );
      }
      return done(reply, '/console/campaigns', 'deleted');
    });

    // ------------------------------------------------------------ links
    const linkSpec = {
      concurrency_cap: 'intOrNull',
      hourly_cap: 'intOrNull',
      daily_cap: 'intOrNull',
      monthly_cap: 'intOrNull',
      total_cap: 'intOrNull',
      priority: 'int',
      weight: 'int',
      active: 'bool',
    } as const;
    app.post('/campaigns/:id/links', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const b = validate(linkCreateBody, fromForm(req.body, { client_id: 'text', ...linkSpec }));
      changed(await svc.createLink(id, b, scopeOf(userOf(req))));
      return done(reply, `/console/campaigns/${id}`, 'created');
    });
    app.post('/links/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const l = changed(
        await svc.updateLink(id, validate(linkPatchBody, fromForm(req.body, linkSpec)), scopeOf(userOf(req))),
      );
      return done(reply, `/console/campaigns/${l!.campaignId}`);
    });
    app.post('/links/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const scope = scopeOf(userOf(req));
      const l = await svc.link(id, scope);
      changed(await svc.deleteLink(id, scope));
      return done(reply, `/console/campaigns/${l.campaignId}`, 'deleted');
    });

    // ------------------------------------------------------------ DIDs
    app.get('/dids', { config: cfg(EVERYONE) }, async (req, reply) => {
      const user = userOf(req);
      const scope = scopeOf(user);
      const q = pageQuery.extend({ campaign_id: z.uuid().optional().catch(undefined) }).parse(req.query);
      const [list, camps] = await Promise.all([
        svc.listDids({ ...q, sellerId: scope, campaignId: q.campaign_id }),
        svc.listCampaigns({ limit: 500, offset: 0, sellerId: scope ?? undefined }),
      ]);
      const campNames = new Map(camps.items.map((c) => [c.id, c.name]));
      const names = scope ? new Map<string, string>() : await sellerNames();
      const ctx = ctxOf(req, flashOf(req));
      const write = may(user, SELLER_WRITE);
      const campOptions = (sel: string | null, sellerId?: string) =>
        html`<option value="">no campaign</option>${camps.items
          .filter((c) => !sellerId || c.sellerId === sellerId)
          .map((c) => html`<option value="${c.id}"${selected(sel === c.id)}>${c.name}</option>`)}`;
      const body = html`<form method="get" action="/console/dids" class="grid"><label>Campaign <select name="campaign_id"><option value="">every campaign</option>${camps.items.map((c) => html`<option value="${c.id}"${selected(q.campaign_id === c.id)}>${c.name}</option>`)}</select></label><button type="submit">Filter</button></form>
${
  write
    ? html`<h2>New DID</h2><form method="post" action="/console/dids" class="grid">${csrfField(ctx)}
<label>Number <input name="number" required placeholder="+14155550100"></label>
${scope ? '' : html`<label>Seller <select name="seller_id" required>${[...names].map(([id, n]) => html`<option value="${id}">${n}</option>`)}</select></label>`}
<label>Campaign <select name="campaign_id">${campOptions(null)}</select></label>
<button type="submit">Add DID</button></form>`
    : ''
}
<h2>DIDs</h2>
${
  list.items.length
    ? html`<table><thead><tr><th>Number</th>${scope ? '' : html`<th>Seller</th>`}<th>Campaign</th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (d) => html`<tr><td>${d.number}</td>${scope ? '' : html`<td>${names.get(d.sellerId) ?? d.sellerId}</td>`}
<td>${
    write
      ? html`<form method="post" action="/console/dids/${d.id}" class="inline">${csrfField(ctx)}<select name="campaign_id" aria-label="campaign">${campOptions(d.campaignId, d.sellerId)}</select> <button type="submit">Save</button></form>`
      : (campNames.get(d.campaignId ?? '') ?? 'none')
  }</td>
${write ? html`<td><form method="post" action="/console/dids/${d.id}/delete" class="inline" data-confirm="Delete DID ${d.number}?">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`,
)}</tbody></table>${pager('/console/dids', { campaign_id: q.campaign_id }, { ...q, total: list.total })}`
    : empty('No DIDs yet.')
}`;
      return sendPage(reply, layout(ctx, 'DIDs', body));
    });
    app.post('/dids', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const b = validate(
        didCreateBody,
        fromForm(req.body, { number: 'text', seller_id: 'optUuid', campaign_id: 'uuidOrNull' }),
      );
      changed(await svc.createDid(b, scopeOf(userOf(req))));
      return done(reply, '/console/dids', 'created');
    });
    app.post('/dids/:id', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const b = validate(didPatchBody, fromForm(req.body, { campaign_id: 'uuidOrNull' }));
      changed(await svc.setDidCampaign(id, b.campaign_id ?? null, scopeOf(userOf(req))));
      return done(reply, '/console/dids');
    });
    app.post('/dids/:id/delete', { config: cfg(SELLER_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.deleteDid(id, scopeOf(userOf(req))));
      return done(reply, '/console/dids', 'deleted');
    });
  };
}
