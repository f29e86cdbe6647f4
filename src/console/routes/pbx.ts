// PBX: users (a new user's credentials are shown once, with where to register), client endpoints
// and seller trunks, apply with its per-node result, and the audit trail. Everything through the PBX
// service with the API's schemas; the audit names the console user. Staff change, viewers look.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config.ts';
import { auditQuery, clientEndpointBody, trunkBody, userBody } from '../../pbx/schemas.ts';
import { PBX_ENDPOINT_KINDS } from '../../db/schema/pbx.ts';
import { PBX_AUDIT_SORTS, PBX_ENDPOINT_SORTS, PBX_USER_SORTS } from '../../pbx/repository.ts';
import type { Actor } from '../../pbx/service/audit.ts';
import type { PbxService } from '../../pbx/service/index.ts';
import type { RoutingService } from '../../routing/service.ts';
import { auditLabel, may, STAFF_READ, STAFF_WRITE } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, hiddenFields, layout, pager } from '../pages/layout.ts';
import { sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { sendPage, userOf } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ctxOf, flashOf } from './users.ts';

const PATH = '/console/pbx';
const idParams = z.object({ id: z.uuid() });
const actorOf = (req: FastifyRequest): Actor => ({ keyId: null, label: auditLabel(userOf(req)) });
const day = (d: Date) => d.toISOString().slice(0, 10);
const USER_SORTS = sortKeys(PBX_USER_SORTS);
const EP_SORTS = sortKeys(PBX_ENDPOINT_SORTS);
/** A list's text filter as the form sends it: trimmed, at most 100 characters, blank for none. */
const listText = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, 100) || undefined : undefined);
const AUDIT_SORTS = sortKeys(PBX_AUDIT_SORTS);

/** Where a SIP phone registers: the host of each Asterisk node the daemon talks to. */
const sipHosts = (config: Config) => [
  ...new Set(config.asteriskNodes.map((n) => new URL(n.ariUrl).hostname)),
];

function credentialsBlock(config: Config, c: { username: string; password: string }): Html {
  const hosts = sipHosts(config);
  return html`<div class="flash ok" role="status">Save these now: the password is not shown again.</div>
<dl class="secret" id="pbx-credentials"><dt>Username</dt><dd><code class="secret" data-testid="sip-username">${c.username}</code></dd>
<dt>Password</dt><dd><code class="secret" data-testid="sip-password">${c.password}</code></dd>
<dt>SIP server</dt><dd>${hosts.length ? hosts.map((h, i) => html`${i ? ', ' : ''}<code>${h}</code>`) : 'no Asterisk node configured'} (SIP over UDP, port 5060 unless your transport says otherwise)</dd></dl>`;
}

export function pbxRoutes(svc: PbxService | undefined, routing: RoutingService, config: Config) {
  return async function routes(app: FastifyInstance) {
    const read = { console: { roles: STAFF_READ } };
    const write = { console: { roles: STAFF_WRITE } };
    const page = (req: FastifyRequest, reply: FastifyReply, title: string, body: Html, status = 200) =>
      sendPage(reply, layout(ctxOf(req, flashOf(req)), title, body), status);
    const tabs = (cur: string) =>
      html`<nav class="tabs" aria-label="PBX"><a href="${PATH}"${cur === 'pbx' ? html` aria-current="page"` : ''}>Users and endpoints</a> <a href="${PATH}/audit"${cur === 'audit' ? html` aria-current="page"` : ''}>Audit log</a></nav>`;

    app.get('/pbx', { config: read }, async (req, reply) => {
      if (!svc) return page(req, reply, 'PBX', empty('The PBX module does not run on this instance.'));
      const ctx = ctxOf(req, flashOf(req));
      const w = may(ctx.user, STAFF_WRITE);
      const raw = req.query as Record<string, unknown>;
      // Two lists on one page, each with its own filter, order and page: the users' under u-names.
      const us = sortQuery(USER_SORTS, 'extension', 'asc').parse({ sort: raw.usort, dir: raw.udir });
      const upq = pageQuery.parse({ limit: raw.ulimit, offset: raw.uoffset });
      const uq = listText(raw.uq);
      const es = sortQuery(EP_SORTS, 'endpoint', 'asc').parse(req.query);
      const pq = pageQuery.parse(req.query);
      const eq = listText(raw.q);
      const kind = z
        .enum(PBX_ENDPOINT_KINDS)
        .optional()
        .catch(undefined)
        .parse(raw.kind || undefined);
      const [users, eps, clients, sellers] = await Promise.all([
        svc.users.list({ ...upq, q: uq, order: us }),
        svc.endpoints.list({ ...pq, q: eq, kind, order: es }),
        w ? routing.listClients({ limit: 500, offset: 0, order: { sort: 'name', dir: 'asc' } }) : null,
        // An archived seller takes no new trunk.
        w
          ? routing.listSellers({
              limit: 500,
              offset: 0,
              archived: false,
              order: { sort: 'name', dir: 'asc' },
            })
          : null,
      ]);
      const provisioned = await svc.endpoints.clientsWithEndpoint(clients?.items.map((c) => c.id) ?? []);
      const userRows = users.items;
      const epRows = eps.items;
      const keepU = { uq, usort: us.sort, udir: us.dir, ulimit: upq.limit, uoffset: upq.offset };
      const keepE = { q: eq, kind, sort: es.sort, dir: es.dir, limit: pq.limit, offset: pq.offset };
      const uth = (k: (typeof USER_SORTS)[number], label: string) =>
        sortTh(PATH, { ...keepE, uq }, us, k, label, '', { sort: 'usort', dir: 'udir' });
      const eth = (k: (typeof EP_SORTS)[number], label: string) =>
        sortTh(PATH, { ...keepU, q: eq, kind }, es, k, label);
      const del = (action: string, what: string) =>
        html`<form method="post" action="${action}" class="inline" data-confirm="${what}">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form>`;
      const userFilter = html`<form method="get" action="${PATH}" class="grid filters" id="pbx-user-filter">
<label>Name, email or extension <input name="uq" value="${uq ?? ''}" maxlength="100"></label>
${hiddenFields({ usort: us.sort, udir: us.dir, ...keepE })}<button type="submit">Filter</button> <a href="${PATH}">Clear</a></form>`;
      const epFilter = html`<form method="get" action="${PATH}" class="grid filters" id="pbx-endpoint-filter">
<label>Name, username or for <input name="q" value="${eq ?? ''}" maxlength="100"></label>
<label>Kind <select name="kind"><option value="">any</option>${PBX_ENDPOINT_KINDS.map((k) => html`<option${kind === k ? html` selected` : ''}>${k}</option>`)}</select></label>
${hiddenFields({ sort: es.sort, dir: es.dir, ...keepU, uoffset: undefined })}<button type="submit">Filter</button> <a href="${PATH}">Clear</a></form>`;
      const body = html`${tabs('pbx')}
${
  w
    ? html`<section><h2>Apply</h2><p>Makes every Asterisk node pick up what is provisioned here, and reports what each node sees.</p>
<form method="post" action="${PATH}/apply" class="inline">${csrfField(ctx)}<button type="submit">Apply to every node</button></form></section>`
    : ''
}
<section><h2>Users</h2>
${userFilter}
${
  userRows.length
    ? html`<div class="scroll"><table id="pbx-users"><thead><tr>${uth('extension', 'Extension')}${uth('name', 'Name')}${uth('email', 'Email')}${uth('created', 'Since')}${w ? html`<th></th>` : ''}</tr></thead><tbody>
${userRows.map((u) => html`<tr data-extension="${u.extension}"><td>${u.extension}</td><td>${u.name}</td><td>${u.email}</td><td>${day(u.createdAt)}</td>${w ? html`<td>${del(`${PATH}/users/${u.id}/delete`, `Delete PBX user ${u.name} (extension ${u.extension})?`)}</td>` : ''}</tr>`)}
</tbody></table></div>${pager(PATH, { ...keepE, uq, usort: us.sort, udir: us.dir }, { ...upq, total: users.total }, { limit: 'ulimit', offset: 'uoffset' })}`
    : empty(uq ? 'No PBX users match this filter.' : 'No PBX users yet.')
}
${
  w
    ? html`<details${userRows.length ? '' : html` open`}><summary>New user</summary><form method="post" action="${PATH}/users" class="grid" id="pbx-user-form">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="100"></label>
<label>Email <input name="email" type="email" required maxlength="254"></label>
<button type="submit">Create user</button></form></details>`
    : ''
}</section>
<section><h2>Endpoints</h2>
${epFilter}
${
  epRows.length
    ? html`<div class="scroll"><table id="pbx-endpoints"><thead><tr>${eth('endpoint', 'Endpoint')}${eth('kind', 'Kind')}${eth('owner', 'For')}<th>Addresses</th><th>Contact</th>${eth('created', 'Since')}${w ? html`<th></th>` : ''}</tr></thead><tbody>
${epRows.map(
  (
    e,
  ) => html`<tr data-endpoint="${e.endpoint}"><td><code>${e.endpoint}</code></td><td>${e.kind}</td><td>${e.owner}</td><td>${e.ips.join(', ')}</td><td>${e.contact ?? ''}</td><td>${day(e.createdAt)}</td>
${
  w
    ? html`<td>${
        e.kind === 'seller_trunk'
          ? del(`${PATH}/trunks/${e.id}/delete`, `Delete trunk ${e.endpoint}?`)
          : e.clientId
            ? del(
                `${PATH}/clients/${e.clientId}/endpoint/delete`,
                `Delete endpoint ${e.endpoint}? Routing to this client stops reaching it.`,
              )
            : ''
      }</td>`
    : ''
}</tr>`,
)}</tbody></table></div>${pager(PATH, { ...keepU, q: eq, kind, sort: es.sort, dir: es.dir }, { ...pq, total: eps.total })}`
    : empty(eq || kind ? 'No endpoints match this filter.' : 'Nothing provisioned yet.')
}
${
  w
    ? html`<details><summary>New client endpoint</summary><form method="post" action="${PATH}/clients" class="grid">${csrfField(ctx)}
<label>Client <select name="client_id" required>${(clients?.items ?? []).filter((c) => !provisioned.has(c.id)).map((c) => html`<option value="${c.id}">${c.name}</option>`)}</select></label>
<label>Kind <select name="kind"><option value="registration">registration (the client's phone system registers)</option><option value="ip">ip (we send calls to an address)</option></select></label>
<label>Name (ip) <input name="name" placeholder="client-…"></label>
<label>Addresses it calls from (ip; comma-separated) <input name="ips" placeholder="203.0.113.10, 198.51.100.0/24"></label>
<label>Contact host (ip) <input name="host" placeholder="pbx.example.com"></label>
<label>Contact port (ip) <input name="port" type="number" min="1" max="65535" placeholder="5060"></label>
<button type="submit">Create endpoint</button></form></details>
<details><summary>New seller trunk</summary><form method="post" action="${PATH}/trunks" class="grid">${csrfField(ctx)}
<label>Seller <select name="seller_id" required>${(sellers?.items ?? []).map((s) => html`<option value="${s.id}">${s.name}</option>`)}</select></label>
<label>Name <input name="name" placeholder="seller-…"></label>
<label>Addresses it calls from (comma-separated) <input name="ips" required placeholder="203.0.113.10"></label>
<button type="submit">Create trunk</button></form></details>`
    : ''
}</section>`;
      return sendPage(reply, layout(ctx, 'PBX', body));
    });

    app.get('/pbx/audit', { config: read }, async (req, reply) => {
      if (!svc) return page(req, reply, 'PBX audit', empty('The PBX module does not run on this instance.'));
      const raw = req.query as Record<string, string | undefined>;
      const q = validate(auditQuery, {
        limit: raw.limit || undefined,
        offset: raw.offset || undefined,
        action: raw.action || undefined,
        result: raw.result || undefined,
        target: raw.target || undefined,
      });
      const o = sortQuery(AUDIT_SORTS, 'at', 'desc').parse(req.query);
      const r = await svc.audit.list({ ...q, from: undefined, to: undefined, order: o });
      const keep = { action: q.action, result: q.result, target: q.target };
      const th = (k: (typeof AUDIT_SORTS)[number], label: string) =>
        sortTh(`${PATH}/audit`, keep, o, k, label);
      const body = html`${tabs('audit')}
<form method="get" action="${PATH}/audit" class="grid"><label>Action <input name="action" value="${q.action ?? ''}" placeholder="user.create"></label>
<label>Result <select name="result"><option value="">any</option>${['ok', 'error'].map((x) => html`<option${q.result === x ? html` selected` : ''}>${x}</option>`)}</select></label>
<label>Target <input name="target" value="${q.target ?? ''}"></label><input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button></form>
${
  r.items.length
    ? html`<div class="scroll"><table id="pbx-audit"><thead><tr>${th('at', 'When (UTC)')}<th>Who</th>${th('action', 'Action')}${th('target', 'Target')}${th('result', 'Result')}<th>Detail</th></tr></thead><tbody>
${r.items.map((a) => html`<tr data-pbx-audit="${a.id}"><td>${a.at.toISOString().replace('T', ' ').slice(0, 19)}</td><td>${a.actorLabel ?? a.actorKeyId ?? ''}</td><td>${a.action}</td><td>${a.target ?? ''}</td><td>${a.result}</td><td><code>${a.detail ? JSON.stringify(a.detail) : ''}</code></td></tr>`)}
</tbody></table></div>${pager(`${PATH}/audit`, { ...keep, ...o }, { limit: q.limit, offset: q.offset, total: r.total })}`
    : empty('No audit records match.')
}`;
      return page(req, reply, 'PBX audit', body);
    });

    if (!svc) return;
    const s = svc;
    const ips = (v: unknown) =>
      typeof v === 'string' && v.trim()
        ? v
            .split(/[\s,]+/)
            .map((x) => x.trim())
            .filter(Boolean)
        : undefined;

    app.post('/pbx/users', { config: write }, async (req, reply) => {
      const b = validate(userBody, fromForm(req.body, { name: 'text', email: 'text' }));
      const { user, credentials } = await s.users.create(actorOf(req), b);
      const body = html`${tabs('pbx')}<h2>PBX user ${user.name}, extension ${user.extension}</h2>${credentialsBlock(config, credentials)}
<p><a href="${PATH}">Back to the PBX</a></p>`;
      return page(req, reply, 'PBX user created', body, 201);
    });
    app.post('/pbx/users/:id/delete', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await s.users.delete(actorOf(req), id);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });

    app.post('/pbx/clients', { config: write }, async (req, reply) => {
      const f = (req.body ?? {}) as Record<string, unknown>;
      const clientId = validate(z.object({ client_id: z.uuid() }), f).client_id;
      const kind = f.kind === 'ip' ? 'ip' : 'registration';
      const port = typeof f.port === 'string' && f.port.trim() ? f.port.trim() : undefined;
      const b = validate(
        clientEndpointBody,
        kind === 'registration'
          ? { kind }
          : {
              kind,
              ...fromForm(f, { name: 'optText' }),
              ips: ips(f.ips),
              contact: {
                host: typeof f.host === 'string' ? f.host.trim() : '',
                ...(port ? { port: /^\d+$/.test(port) ? Number(port) : port } : {}),
              },
            },
      );
      const { record, credentials } = await s.endpoints.provisionClient(actorOf(req), clientId, {
        kind: b.kind,
        options: b.options,
        raw_options: b.raw_options,
        ...(b.kind === 'ip' ? { name: b.name, ips: b.ips, contact: b.contact } : {}),
      });
      if (!credentials) return reply.redirect(`${PATH}?done=created`, 303);
      const body = html`${tabs('pbx')}<h2>Endpoint <code>${record.endpoint}</code></h2>
<p>The client's phone system registers with these; routing now dials this endpoint for the client.</p>${credentialsBlock(config, credentials)}
<p><a href="${PATH}">Back to the PBX</a></p>`;
      return page(req, reply, 'Client endpoint created', body, 201);
    });
    app.post('/pbx/clients/:id/endpoint/delete', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await s.endpoints.deprovisionClient(actorOf(req), id);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });

    app.post('/pbx/trunks', { config: write }, async (req, reply) => {
      const f = (req.body ?? {}) as Record<string, unknown>;
      const b = validate(trunkBody, {
        ...fromForm(f, { seller_id: 'text', name: 'optText' }),
        ips: ips(f.ips),
      });
      await s.trunks.create(actorOf(req), {
        sellerId: b.seller_id,
        name: b.name,
        ips: b.ips,
        options: b.options,
        raw_options: b.raw_options,
      });
      return reply.redirect(`${PATH}?done=created`, 303);
    });
    app.post('/pbx/trunks/:id/delete', { config: write }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await s.trunks.delete(actorOf(req), id);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });

    app.post('/pbx/apply', { config: write }, async (req, reply) => {
      const r = await s.apply.apply(actorOf(req), auditLabel(userOf(req)));
      const body = html`${tabs('pbx')}
<p class="flash ${r.ok ? 'ok' : 'error'}" role="status" id="apply-result">${r.ok ? 'Applied' : 'Not applied everywhere'}: ${r.endpoints} endpoint(s), ${r.nodes.length} node(s).</p>
${r.nodes.length ? '' : empty('No Asterisk node is configured.')}
${r.nodes.map(
  (n) => html`<section><h2>Node ${n.node}</h2>
<p>${n.reachable ? 'reachable' : html`<strong>unreachable</strong>`}${n.error ? `: ${n.error}` : ''}${n.reload ? ` · reload ${n.reload.ok ? 'ok' : `failed: ${n.reload.message}`}` : ''}</p>
${
  n.endpoints.length
    ? html`<div class="scroll"><table><thead><tr><th>Endpoint</th><th>Seen by the node</th><th>Why not</th></tr></thead><tbody>${n.endpoints.map(
        (e) =>
          html`<tr><td><code>${e.endpoint}</code></td><td>${e.visible ? 'yes' : 'no'}</td><td>${e.reason ?? ''}</td></tr>`,
      )}</tbody></table></div>`
    : ''
}</section>`,
)}
<p><a href="${PATH}">Back to the PBX</a></p>`;
      return page(req, reply, 'PBX apply', body);
    });
  };
}
