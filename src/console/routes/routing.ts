// Routing pages: sellers (with their caps) and clients (schedule, time zone, buyer group) here;
// buyer groups, campaigns with their links, DIDs and blocklists in their own files, registered
// below. Every change goes through the routing service with the API's own zod schemas, so the console
// validates, refuses and confirms exactly as the API does; a seller user is scoped like a seller key.
import type { FastifyInstance } from 'fastify';
import { AppError } from '../../platform/http/errors.ts';
import type { RoutingService } from '../../routing/service.ts';
import { clientBody, sellerBody } from '../../routing/schemas.ts';
import { may, STAFF_READ, STAFF_WRITE } from '../access.ts';
import { dayName, type FieldKind, fromForm, scheduleFromForm, scheduleText, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, layout } from '../pages/layout.ts';
import { CAP_SPEC, capInputs, capsSummary } from '../pages/routing-fields.ts';
import { sendPage } from '../plugin.ts';
import { blocklistRoutes } from './blocklist.ts';
import { campaignRoutes } from './campaigns.ts';
import { didRoutes } from './dids.ts';
import { groupRoutes } from './groups.ts';
import {
  bodyOf,
  cfg,
  changedBy,
  checked,
  deleteOrConfirm,
  done,
  emptyList,
  idParams,
  ownerListOf,
  selected,
  when,
  yes,
} from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

const SELLER_KEYS = ['name', 'active', 'archived_at', 'created_at'] as const;
const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;
const CLIENT_KEYS = ['name', 'endpoint', 'timezone', 'active', 'created_at'] as const;

export function routingRoutes(
  svc: RoutingService,
  onChange: () => void,
  /** The provider accounts (DIDs filter by the one they are held at); none without provisioning. */
  accountNames: () => Promise<Array<{ id: string; name: string }>> = async () => [],
) {
  return async function routes(app: FastifyInstance) {
    /** Every seller's name, for the pages of users who see every seller. */
    const sellerNames = async () =>
      new Map((await svc.listSellers({ limit: 500, offset: 0 })).items.map((s) => [s.id, s.name]));
    /** The sellers a new campaign or DID may name, by name: archived ones are left out. */
    const sellerPicks = async () =>
      new Map(
        (
          await svc.listSellers({
            limit: 500,
            offset: 0,
            archived: false,
            order: { sort: 'name', dir: 'asc' },
          })
        ).items.map((s) => [s.id, s.name]),
      );
    const clientNames = async () =>
      new Map((await svc.listClients({ limit: 500, offset: 0 })).items.map((c) => [c.id, c.name]));
    const changed = changedBy(onChange);

    // ------------------------------------------------------------ sellers
    const sellerSpec = { name: 'text', active: 'bool', ...CAP_SPEC } as const;
    app.get('/sellers', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { q, o, f, th, filterForm, pager } = ownerListOf(
        req,
        '/console/sellers',
        SELLER_KEYS,
        'created_at',
      );
      const list = await svc.listSellers({
        ...q,
        order: o,
        name: f.name,
        active: f.active,
        archived: f.archived,
      });
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const body = html`${
        write
          ? html`<form method="post" action="/console/sellers" class="grid">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="200"></label>
${capInputs(null)}
<label class="check"><input type="checkbox" name="active" checked> Active</label>
<button type="submit">Add seller</button></form>`
          : ''
      }
${filterForm(true, true)}
${
  list.items.length
    ? html`<div class="scroll"><table id="sellers-list"><thead><tr>${th('name', 'Name')}${th('active', 'Active')}<th>Caps: live · hour · day · month · total</th>${th('created_at', 'Since')}${f.archived === false ? '' : th('archived_at', 'Archived')}<th>Id</th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${list.items.map(
  (s) => html`<tr${s.archivedAt ? html` class="archived"` : ''}>${
    write && !s.archivedAt
      ? html`<td colspan="2"><form method="post" action="/console/sellers/${s.id}" class="inline">${csrfField(ctx)}
<input name="name" value="${s.name}" required maxlength="200" aria-label="name"> <label class="check"><input type="checkbox" name="active"${checked(s.active)}> active</label> <button type="submit">Save</button></form></td>`
      : html`<td>${s.name}</td><td>${s.active ? 'yes' : 'no'}</td>`
  }<td><a href="/console/sellers/${s.id}" aria-label="caps of ${s.name}">${capsSummary(s)}</a></td>
<td>${when(s.createdAt)}</td>${f.archived === false ? '' : html`<td>${s.archivedAt ? when(s.archivedAt) : '–'}</td>`}<td><code>${s.id}</code></td>
${
  write
    ? html`<td>${
        s.archivedAt
          ? html`<form method="post" action="/console/sellers/${s.id}/restore" class="inline">${csrfField(ctx)}<button type="submit" class="link">Restore</button></form>`
          : html`<form method="post" action="/console/sellers/${s.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="link">Delete…</button></form>`
      }</td>`
    : ''
}</tr>`,
)}</tbody></table></div>${pager(list.total)}`
    : emptyList(f, 'No sellers yet (archived ones are shown by the Archived filter).', 'sellers')
}`;
      return sendPage(reply, layout(ctx, 'Sellers', body));
    });
    app.get('/sellers/:id', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const s = await svc.seller(id);
      const ctx = ctxOf(req, flashOf(req));
      const staff = may(ctx.user, STAFF_WRITE);
      // An archived seller is changed by nobody until it is restored: its form is shown read-only.
      const write = staff && !s.archivedAt;
      const dis = write ? '' : html` disabled`;
      const state = s.archivedAt
        ? html`<p class="flash error" role="status" id="seller-archived">Archived on ${when(s.archivedAt)}: its DIDs take no calls (their records say <code>seller_archived</code>), and it is left out of pick lists and of the sellers list unless asked for. Its campaigns, DIDs, numbers and calls are kept.</p>
${staff ? html`<form method="post" action="/console/sellers/${s.id}/restore" class="inline">${csrfField(ctx)}<button type="submit">Restore seller</button></form>` : ''}`
        : '';
      const archive = write
        ? html`<h2>Archive</h2><p>A seller that once held numbers cannot be deleted (the numbers and calls keep naming it). Archiving stops all its traffic, revokes its API keys and disables its console users, and keeps everything else; it can be restored.</p>
<form method="post" action="/console/sellers/${s.id}/archive" class="inline" id="seller-archive" data-confirm="Archive seller ${s.name}? Its DIDs stop taking calls, its API keys are revoked and its console users disabled.">${csrfField(ctx)}<button type="submit" class="danger">Archive seller</button></form>`
        : '';
      const body = html`${state}<form method="post" action="/console/sellers/${s.id}" class="grid" id="seller-form">${csrfField(ctx)}
<label>Name <input name="name" value="${s.name}" required maxlength="200"${dis}></label>
<label class="check"><input type="checkbox" name="active"${checked(s.active)}${dis}> Active</label>
<fieldset><legend>Caps on all of this seller's calls, on top of each link's (empty: none; hour, day and month in the daemon's default time zone)</legend>
${capInputs(s, dis)}</fieldset>
${write ? html`<button type="submit">Save</button>` : ''}</form>
<p><a href="/console/campaigns?seller_id=${s.id}">Its campaigns</a> · <a href="/console/blocklist?list=${s.id}">Its blocklist</a></p>
${archive}`;
      return sendPage(reply, layout(ctx, `Seller ${s.name}`, body));
    });
    app.post('/sellers', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      await svc.createSeller(validate(sellerBody, fromForm(req.body, sellerSpec)), req.actor);
      return done(reply, '/console/sellers', 'created');
    });
    app.post('/sellers/:id', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      // The list's row form renames and (de)activates only: caps it does not carry stay as they are.
      const f = bodyOf(req);
      const spec = Object.fromEntries(
        Object.entries(sellerSpec).filter(([k]) => k === 'name' || k === 'active' || k in f),
      ) as Record<string, FieldKind>;
      changed(await svc.updateSeller(id, validate(sellerBody, fromForm(f, spec)), req.actor));
      return done(reply, `/console/sellers/${id}`);
    });
    app.post('/sellers/:id/archive', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.archiveSeller(id, req.actor));
      // Its revoked keys stop at once here (other instances: within their key cache's TTL).
      app.deps.keys.invalidate();
      return done(reply, `/console/sellers/${id}`, 'archived');
    });
    app.post('/sellers/:id/restore', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.restoreSeller(id, req.actor));
      return done(reply, `/console/sellers/${id}`, 'restored');
    });
    // A seller's delete always asks first, on a page that counts what names it: what must go before
    // (the delete is refused while any is there, as in the API) or what goes with it.
    app.post('/sellers/:id/delete', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      if (yes(bodyOf(req).confirm))
        try {
          changed(await svc.deleteSeller(id, req.actor));
          return done(reply, '/console/sellers', 'deleted');
        } catch (e) {
          // Something came to name it since the question: asked again, with the new counts.
          if (!(e instanceof AppError) || e.code !== 'IN_USE') throw e;
        }
      const [s, d] = await Promise.all([svc.seller(id), svc.sellerDependants(id)]);
      const ctx = ctxOf(req);
      const k = d.kept;
      const q = encodeURIComponent(s.name);
      const kept: Array<[number, Html]> = [
        [
          k.campaigns,
          html`<a href="/console/campaigns?seller_id=${id}">${plural(k.campaigns, 'campaign')}</a>${k.links ? ` with ${plural(k.links, 'link')}` : ''}: delete them or their links first (a campaign's delete lists its links and DIDs)`,
        ],
        [
          k.dids,
          html`<a href="/console/dids?seller_id=${id}">${plural(k.dids, 'DID')}</a>: delete them (their calls keep the seller's name only while it exists)`,
        ],
        [
          k.console_users,
          html`<a href="/console/users?seller_id=${id}">${plural(k.console_users, 'console user')}</a> bound to it: delete them or bind them elsewhere`,
        ],
        [
          k.api_keys,
          html`<a href="/console/api-keys?seller_id=${id}">${plural(k.api_keys, 'API key')}</a> not revoked: revoke them`,
        ],
        [
          k.carrier_numbers,
          html`<a href="/console/numbers">${plural(k.carrier_numbers, 'number')}</a> held or once held at a carrier for it (the carrier's record)`,
        ],
        [
          k.provisioning_jobs,
          html`<a href="/console/numbers">${plural(k.provisioning_jobs, 'provisioning job')}</a> (the carrier's record)`,
        ],
        [
          k.pbx_trunks,
          html`<a href="/console/pbx?q=${q}&amp;kind=seller_trunk">${plural(k.pbx_trunks, 'PBX trunk')}</a>: delete them on the PBX page (that removes them from Asterisk too)`,
        ],
      ];
      const r = d.removed;
      const removed: Array<[number, string]> = [
        [r.blocked_numbers, `${plural(r.blocked_numbers, 'number')} on its blocklist`],
        [r.webhook_subscriptions, plural(r.webhook_subscriptions, 'webhook subscription')],
        [
          r.carrier_subaccounts,
          `${plural(r.carrier_subaccounts, 'carrier subaccount record')} (the subaccount stays at the carrier)`,
        ],
      ];
      const blocking = kept.filter(([n]) => n > 0);
      const going = removed.filter(([n]) => n > 0);
      const body = blocking.length
        ? html`<p class="flash error" role="alert">Seller ${s.name} cannot be deleted while it still has:</p>
<ul id="seller-kept">${blocking.map(([, l]) => html`<li>${l}</li>`)}</ul>
<p>Nothing was deleted.</p>${
            k.carrier_numbers || k.provisioning_jobs
              ? html`<p>Numbers held at a carrier and their jobs stay for good: <a href="/console/sellers/${id}#seller-archive">archive the seller</a> instead (it stops routing and can be restored).</p>`
              : ''
          }<p><a href="/console/sellers/${id}">Back to the seller</a></p>`
        : html`<p>${going.length ? 'Deleting the seller also removes:' : 'Nothing else names this seller: no campaign, DID, user, key, number, trunk, blocklist or webhook.'}</p>
${going.length ? html`<ul id="seller-removed">${going.map(([, l]) => html`<li>${l}</li>`)}</ul>` : ''}
<form method="post" action="/console/sellers/${id}/delete" class="inline" id="seller-delete-confirm">${csrfField(ctx)}<input type="hidden" name="confirm" value="true">
<button type="submit" class="danger">Delete seller ${s.name}</button></form> <a href="/console/sellers/${id}">Cancel</a>`;
      return sendPage(reply, layout(ctx, `Delete seller ${s.name}?`, body), blocking.length ? 409 : 200);
    });

    // ------------------------------------------------------------ clients
    // A form without the group field (an older page) leaves the client's group alone.
    const clientForm = (b: unknown) => ({
      ...fromForm(b, { name: 'text', endpoint: 'text', timezone: 'textOrNull', active: 'bool' }),
      ...(b && typeof b === 'object' && 'group_id' in b ? fromForm(b, { group_id: 'uuidOrNull' }) : {}),
      schedule: scheduleFromForm(b),
    });
    const groupNames = async () =>
      new Map((await svc.listGroups({ limit: 500, offset: 0 })).items.map((g) => [g.id, g.name]));
    const groupSelect = (groups: Map<string, string>, sel: string | null, dis: Html | string = '') =>
      html`<label>Buyer group <select name="group_id"${dis}><option value="">none</option>${[...groups].map(([id, n]) => html`<option value="${id}"${selected(sel === id)}>${n}</option>`)}</select></label>`;
    app.get('/clients', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { q, o, f, th, filterForm, pager } = ownerListOf(
        req,
        '/console/clients',
        CLIENT_KEYS,
        'created_at',
      );
      const [list, groups] = await Promise.all([
        svc.listClients({ ...q, order: o, name: f.name, active: f.active }),
        groupNames(),
      ]);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const body = html`${
        write
          ? html`<form method="post" action="/console/clients" class="grid">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="200"></label>
<label>Endpoint or dial string <input name="endpoint" required placeholder="centre-1 or PJSIP/1000@trunk"></label>
<label>Time zone <input name="timezone" placeholder="America/New_York"></label>
${groupSelect(groups, null)}
<label class="check"><input type="checkbox" name="active" checked> Active</label>
<button type="submit">Add client</button></form>`
          : ''
      }
${filterForm(true)}
${
  list.items.length
    ? html`<div class="scroll"><table id="clients-list"><thead><tr>${th('name', 'Name')}${th('endpoint', 'Endpoint')}${th('timezone', 'Time zone')}<th>Open hours</th><th>Buyer group</th>${th('active', 'Active')}<th></th></tr></thead><tbody>
${list.items.map(
  (c) => html`<tr><td>${c.name}</td><td><code>${c.endpoint}</code></td><td>${c.timezone ?? 'default'}</td>
<td>${c.schedule ? Object.keys(c.schedule).length + ' days set' : 'always open'}</td>
<td>${c.groupId ? html`<a href="/console/groups/${c.groupId}">${groups.get(c.groupId) ?? c.groupId}</a>` : '–'}</td><td>${c.active ? 'yes' : 'no'}</td>
<td><a href="/console/clients/${c.id}">${write ? 'Edit' : 'View'}</a></td></tr>`,
)}</tbody></table></div>${pager(list.total)}`
    : emptyList(f, 'No clients yet.', 'clients')
}`;
      return sendPage(reply, layout(ctx, 'Clients', body));
    });
    app.get('/clients/:id', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const [c, groups] = await Promise.all([svc.client(id), groupNames()]);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const dis = write ? '' : html` disabled`;
      const body = html`<form method="post" action="/console/clients/${c.id}" class="grid">${csrfField(ctx)}
<label>Name <input name="name" value="${c.name}" required maxlength="200"${dis}></label>
<label>Endpoint or dial string <input name="endpoint" value="${c.endpoint}" required${dis}></label>
<label>Time zone (empty: the daemon's default) <input name="timezone" value="${c.timezone ?? ''}"${dis}></label>
${groupSelect(groups, c.groupId, dis)}
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
      const c = await svc.createClient(b, req.actor);
      return done(reply, `/console/clients/${c!.id}`, 'created');
    });
    app.post('/clients/:id', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.updateClient(id, validate(clientBody, clientForm(req.body)), req.actor));
      return done(reply, `/console/clients/${id}`);
    });
    app.post('/clients/:id/delete', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      return deleteOrConfirm(req, reply, {
        title: 'Delete client',
        page: `/console/clients/${id}`,
        list: '/console/clients',
        run: async (cascade) => changed(await svc.deleteClient(id, cascade, req.actor)),
        lines: (d: { links: number }) => [`${d.links} link(s) to campaigns are removed`],
      });
    });

    await app.register(groupRoutes(svc, onChange));
    await app.register(campaignRoutes(svc, onChange, { sellerNames, sellerPicks, clientNames }));
    await app.register(didRoutes(svc, onChange, { sellerNames, sellerPicks, accountNames }));
    await app.register(blocklistRoutes(svc, { sellerNames }));
  };
}
