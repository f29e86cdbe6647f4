// Buyer groups (staff, as in the API): clients that are one company, with caps shared by all of them
// on top of each client's own. A group's page edits its name, time zone and caps and its members
// (a member is a client whose group is this one: added and taken out through the client).
import type { FastifyInstance } from 'fastify';
import { clientBody, groupBody } from '../../routing/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { may, STAFF_READ, STAFF_WRITE } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { html } from '../html.ts';
import { csrfField, empty, layout } from '../pages/layout.ts';
import { CAP_SPEC, capInputs, capsSummary } from '../pages/routing-fields.ts';
import { sendPage } from '../plugin.ts';
import {
  bodyOf,
  cfg,
  changedBy,
  deleteOrConfirm,
  done,
  emptyList,
  idParams,
  ownerListOf,
  when,
} from './routing-common.ts';
import { ctxOf, flashOf } from './users.ts';

const groupSpec = { name: 'text', timezone: 'textOrNull', ...CAP_SPEC } as const;
const memberBody = clientBody.pick({ group_id: true });
/** The list's orders: the routing repository's `GROUP_SORTS`. */
const GROUP_KEYS = ['name', 'timezone', 'created_at'] as const;

export function groupRoutes(svc: RoutingService, onChange: () => void) {
  return async function routes(app: FastifyInstance) {
    const changed = changedBy(onChange);
    /** Every client (a console lists them whole, as the client pickers do). */
    const allClients = async () => (await svc.listClients({ limit: 500, offset: 0 })).items;

    app.get('/groups', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { q, o, f, th, filterForm, pager } = ownerListOf(
        req,
        '/console/groups',
        GROUP_KEYS,
        'created_at',
      );
      const [list, clients] = await Promise.all([
        svc.listGroups({ ...q, order: o, name: f.name }),
        allClients(),
      ]);
      const members = new Map<string, number>();
      for (const c of clients) if (c.groupId) members.set(c.groupId, (members.get(c.groupId) ?? 0) + 1);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const body = html`${
        write
          ? html`<form method="post" action="/console/groups" class="grid" id="group-create">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="200"></label>
<label>Time zone of its hour, day and month (empty: the daemon's default) <input name="timezone" placeholder="America/New_York"></label>
${capInputs(null)}
<button type="submit">Add buyer group</button></form>`
          : ''
      }
${filterForm(false)}
${
  list.items.length
    ? html`<div class="scroll"><table id="groups-list"><thead><tr>${th('name', 'Name')}${th('timezone', 'Time zone')}<th>Caps: live · hour · day · month · total</th><th>Clients</th>${th('created_at', 'Since')}</tr></thead><tbody>
${list.items.map(
  (g) =>
    html`<tr><td><a href="/console/groups/${g.id}">${g.name}</a></td><td>${g.timezone ?? 'default'}</td><td>${capsSummary(g)}</td><td>${members.get(g.id) ?? 0}</td><td>${when(g.createdAt)}</td></tr>`,
)}</tbody></table></div>${pager(list.total)}`
    : emptyList(f, 'No buyer groups yet: a group shares caps among clients of one company.', 'buyer groups')
}`;
      return sendPage(reply, layout(ctx, 'Buyer groups', body));
    });

    app.get('/groups/:id', { config: cfg(STAFF_READ) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const [g, clients] = await Promise.all([svc.group(id), allClients()]);
      const ctx = ctxOf(req, flashOf(req));
      const write = may(ctx.user, STAFF_WRITE);
      const dis = write ? '' : html` disabled`;
      const inside = clients.filter((c) => c.groupId === g.id);
      const outside = clients.filter((c) => c.groupId !== g.id);
      const body = html`<form method="post" action="/console/groups/${g.id}" class="grid" id="group-form">${csrfField(ctx)}
<label>Name <input name="name" value="${g.name}" required maxlength="200"${dis}></label>
<label>Time zone of its hour, day and month (empty: the daemon's default) <input name="timezone" value="${g.timezone ?? ''}"${dis}></label>
<fieldset><legend>Caps shared by every client of the group, on top of each client's links (empty: none)</legend>${capInputs(g, dis)}</fieldset>
${write ? html`<button type="submit">Save</button>` : ''}</form>
<h2>Clients in the group</h2>
${
  inside.length
    ? html`<div class="scroll"><table id="group-members"><thead><tr><th>Client</th><th>Endpoint</th>${write ? html`<th></th>` : ''}</tr></thead><tbody>
${inside.map(
  (c) => html`<tr><td><a href="/console/clients/${c.id}">${c.name}</a></td><td><code>${c.endpoint}</code></td>
${write ? html`<td><form method="post" action="/console/groups/${g.id}/members/${c.id}/remove" class="inline">${csrfField(ctx)}<button type="submit" class="link">Take out</button></form></td>` : ''}</tr>`,
)}</tbody></table></div>`
    : empty('No client is in this group yet.')
}
${
  write && outside.length
    ? html`<form method="post" action="/console/groups/${g.id}/members" class="grid" id="group-add">${csrfField(ctx)}
<label>Client <select name="client_id" required>${outside.map((c) => html`<option value="${c.id}">${c.name}${c.groupId ? ' (moves from its group)' : ''}</option>`)}</select></label>
<button type="submit">Add to the group</button></form>`
    : ''
}
${write ? html`<h2>Delete</h2><form method="post" action="/console/groups/${g.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="danger">Delete buyer group</button></form>` : ''}`;
      return sendPage(reply, layout(ctx, `Buyer group ${g.name}`, body));
    });

    app.post('/groups', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const g = await svc.createGroup(validate(groupBody, fromForm(req.body, groupSpec)), req.actor);
      return done(reply, `/console/groups/${g!.id}`, 'created');
    });
    app.post('/groups/:id', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      changed(await svc.updateGroup(id, validate(groupBody, fromForm(req.body, groupSpec)), req.actor));
      return done(reply, `/console/groups/${id}`);
    });
    app.post('/groups/:id/members', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const client = idParams.parse({ id: bodyOf(req).client_id }).id;
      changed(await svc.updateClient(client, validate(memberBody, { group_id: id }), req.actor));
      return done(reply, `/console/groups/${id}`);
    });
    app.post('/groups/:id/members/:client/remove', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const { id: client } = idParams.parse({ id: (req.params as { client: string }).client });
      const c = await svc.client(client);
      // Only a member is taken out: a stale page must not ungroup a client that moved since.
      if (c.groupId === id) changed(await svc.updateClient(client, { group_id: null }, req.actor));
      return done(reply, `/console/groups/${id}`);
    });
    app.post('/groups/:id/delete', { config: cfg(STAFF_WRITE) }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      return deleteOrConfirm(req, reply, {
        title: 'Delete buyer group',
        page: `/console/groups/${id}`,
        list: '/console/groups',
        run: async (cascade) => changed(await svc.deleteGroup(id, cascade, req.actor)),
        lines: (d: { clients: number }) => [
          `${d.clients} client(s) leave the group (they stay, with their own caps)`,
        ],
      });
    });
  };
}
