// Provider accounts (carrier accounts numbers are bought at): listed without their credentials
// (staff and viewers look, as `GET /v1/provider-accounts` lets staff keys), created, changed, given
// new credentials and deleted by admins, as the API's admin routes. Key and secret go in and are
// stored sealed: no page ever shows them. Through the provisioning service with the API's schemas.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PROVIDER_KINDS } from '../../db/schema/provisioning.ts';
import { accountIn, accountPatch, accountsQuery } from '../../provisioning/schemas.ts';
import type { ProvisioningService } from '../../provisioning/service.ts';
import { ACCOUNT_SORTS, type AccountRow } from '../../provisioning/repository.ts';
import { ADMIN, may, STAFF_READ } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { boolChoice, choice, sortKeys, sortQuery, sortTh } from '../pages/table.ts';
import { sendPage } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ctxOf, flashOf } from './users.ts';

export const ACCOUNTS_PATH = '/console/numbers/accounts';
const PATH = ACCOUNTS_PATH;
const idParams = z.object({ id: z.uuid() });
const VOICE_TYPES = ['sip', 'tel', 'app'] as const;
const SORTS = sortKeys(ACCOUNT_SORTS);
/** The list's filter form as it arrives; the API's query schema checks what it becomes. */
const filterForm = z.object({ provider: choice(z.string().max(50)), active: boolChoice });

/** The tabs of the Numbers area: numbers and jobs, provider accounts, webhooks. */
export function numberTabs(cur: 'numbers' | 'accounts' | 'webhooks'): Html {
  const tab = (k: typeof cur, href: string, label: string) =>
    html`<a href="${href}"${cur === k ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs" aria-label="Numbers">${tab('numbers', '/console/numbers', 'Numbers and jobs')} ${tab('accounts', PATH, 'Provider accounts')} ${tab('webhooks', '/console/numbers/webhooks', 'Webhooks')}</nav>`;
}

const stateOf = (a: AccountRow) =>
  a.active ? html`<span class="ok">active</span>` : html`<strong class="bad">disabled</strong>`;

/** Voice routing from two fields: none when the value is empty. */
function voiceOf(body: unknown): { type: string; value: string } | null {
  const f = fromForm(body, { voice_type: 'optText', voice_value: 'optText' });
  return f.voice_value ? { type: String(f.voice_type ?? 'sip'), value: String(f.voice_value) } : null;
}

function settingsFields(a: AccountRow | null): Html {
  const v = a?.voice ?? null;
  return html`<label>Requests a second <input name="rate_per_s" type="number" step="0.1" min="0.1" max="100" value="${a?.ratePerS ?? ''}" placeholder="2"></label>
<label>Items in flight <input name="concurrency" type="number" min="1" max="50" value="${a?.concurrency ?? ''}" placeholder="2"></label>
<label>Timeout (ms) <input name="timeout_ms" type="number" min="100" max="120000" value="${a?.timeoutMs ?? ''}" placeholder="10000"></label>
<label class="check"><input type="checkbox" name="use_subaccounts"${(a?.useSubaccounts ?? true) ? html` checked` : ''}> A subaccount per seller (off: every number on the primary account)</label>
<label>Voice routing of bought numbers <select name="voice_type">${VOICE_TYPES.map((t) => html`<option${v?.type === t ? html` selected` : ''}>${t}</option>`)}</select></label>
<label>Voice value (<code>{e164}</code> is the number; empty: none) <input name="voice_value" value="${v?.value ?? ''}" maxlength="500" placeholder="sip:{e164}@198.51.100.7"></label>`;
}

export function providerAccountRoutes(svc: ProvisioningService | undefined) {
  return async function routes(app: FastifyInstance) {
    const read = { console: { roles: STAFF_READ } };
    const admin = { console: { roles: ADMIN } };
    const none = (req: FastifyRequest, reply: FastifyReply) =>
      sendPage(
        reply,
        layout(
          ctxOf(req),
          'Provider accounts',
          empty('The provisioning module does not run on this instance.'),
        ),
      );

    app.get('/numbers/accounts', { config: read }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const ctx = ctxOf(req, flashOf(req));
      const w = may(ctx.user, ADMIN);
      const p = pageQuery.parse(req.query);
      const f = filterForm.parse(req.query);
      // The filter is the API's query, checked by its schema (a bad value is its 400).
      const q = validate(accountsQuery, { ...p, ...f });
      const o = sortQuery(SORTS, 'name', 'asc').parse(req.query);
      const rows = await svc.repo.listAccounts({ ...q, order: o });
      const keep = { provider: q.provider, active: f.active };
      const th = (k: (typeof SORTS)[number], label: string) => sortTh(PATH, keep, o, k, label);
      const filtered = Object.values(keep).some(Boolean);
      const sel = (cur: string | undefined, v: string) => (cur === v ? html` selected` : '');
      const body = html`${numberTabs('accounts')}
<section><h2>Accounts</h2>
<form method="get" action="${PATH}" class="grid" id="account-filter">
<label>Carrier <select name="provider"><option value="">any</option>${PROVIDER_KINDS.map((k) => html`<option${sel(q.provider, k)}>${k}</option>`)}</select></label>
<label>State <select name="active"><option value="">any</option><option value="true"${sel(f.active, 'true')}>active</option><option value="false"${sel(f.active, 'false')}>disabled</option></select></label>
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}"><button type="submit">Filter</button>${filtered ? html` <a href="${PATH}">Clear</a>` : ''}</form>
${
  rows.items.length
    ? html`<div class="scroll"><table id="accounts"><thead><tr>${th('name', 'Name')}${th('provider', 'Carrier')}<th>REST URL</th><th>Subaccounts</th><th>Rate / in flight / timeout</th><th>Carrier addresses</th><th>Trunk</th><th>Voice</th>${th('active', 'State')}${th('created_at', 'Created (UTC)')}</tr></thead><tbody>
${rows.items.map(
  (
    a,
  ) => html`<tr data-account="${a.name}"><td><a href="${PATH}/${a.id}">${a.name}</a></td><td>${a.provider}</td><td>${a.restUrl}</td><td>${a.useSubaccounts ? 'per seller' : 'off'}</td>
<td>${a.ratePerS}/s · ${a.concurrency} · ${a.timeoutMs} ms</td><td>${a.signallingCidrs.join(', ')}</td><td>${a.trunkEndpoint ?? ''}</td><td>${a.voice ? `${a.voice.type}: ${a.voice.value}` : ''}</td><td>${stateOf(a)}</td><td>${a.createdAt.toISOString().replace('T', ' ').slice(0, 16)}</td></tr>`,
)}</tbody></table></div>${pager(PATH, { ...keep, ...o }, { ...p, total: rows.total })}`
    : filtered
      ? empty('No account matches the filter.')
      : empty(w ? 'No provider account yet: add one below to buy numbers.' : 'No provider account yet.')
}</section>
${
  w
    ? html`<section><h2>Add an account</h2>
<form method="post" action="${PATH}" class="grid" id="account-form" autocomplete="off">${csrfField(ctx)}
<label>Name <input name="name" required maxlength="100" placeholder="vonage-main"></label>
<label>Carrier <select name="provider"><option>vonage</option></select></label>
<label>REST URL <input name="rest_url" type="url" value="https://rest.nexmo.com" required></label>
<label>API URL <input name="api_url" type="url" value="https://api.nexmo.com" required></label>
<label>API key <input name="api_key" required maxlength="100" autocomplete="off"></label>
<label>API secret <input name="api_secret" type="password" required maxlength="200" autocomplete="new-password"></label>
<label class="wide">Carrier signalling addresses (comma-separated CIDRs; a trunk is made for them) <input name="signalling_cidrs" placeholder="216.147.0.0/18"></label>
${settingsFields(null)}
<p class="wide muted">Key and secret are stored sealed with the master key and are never shown again, here or in the API.</p>
<button type="submit">Add account</button></form></section>`
    : ''
}`;
      return sendPage(reply, layout(ctx, 'Provider accounts', body));
    });

    app.get('/numbers/accounts/:id', { config: read }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const { id } = validate(idParams, req.params);
      const a = await svc.account(id);
      const ctx = ctxOf(req, flashOf(req));
      const w = may(ctx.user, ADMIN);
      const body = html`${numberTabs('accounts')}
<dl class="secret"><dt>Carrier</dt><dd>${a.provider}</dd><dt>REST URL</dt><dd>${a.restUrl}</dd><dt>API URL</dt><dd>${a.apiUrl}</dd>
<dt>Credentials</dt><dd>stored sealed; never shown</dd><dt>Carrier addresses</dt><dd>${a.signallingCidrs.join(', ') || 'none'}</dd><dt>Trunk</dt><dd>${a.trunkEndpoint ?? 'none'}</dd>
<dt>State</dt><dd id="account-state">${stateOf(a)}</dd></dl>
${
  w
    ? html`<section><h2>${a.active ? 'Disable' : 'Enable'}</h2>${
        a.active
          ? html`<p>A disabled account is not asked anything new: searches, new jobs and reconciles are refused, and the items of its unfinished jobs wait (those already running finish) until it is enabled again.</p>
<form method="post" action="${PATH}/${a.id}/state" class="inline" id="account-toggle" data-confirm="Disable provider account ${a.name}? Its unfinished jobs wait until it is enabled again.">${csrfField(ctx)}<input type="hidden" name="active" value="false"><button type="submit" class="danger">Disable account</button></form>`
          : html`<p>Disabled: searches, new jobs and reconciles are refused; unfinished jobs wait. Enabling lets them go on.</p>
<form method="post" action="${PATH}/${a.id}/state" class="inline" id="account-toggle">${csrfField(ctx)}<input type="hidden" name="active" value="true"><button type="submit">Enable account</button></form>`
      }</section>
<section><h2>Settings</h2>
<form method="post" action="${PATH}/${a.id}" class="grid" id="account-settings">${csrfField(ctx)}${settingsFields(a)}<button type="submit">Save</button></form></section>
<section><h2>New credentials</h2><p>When the carrier's key or secret changes (rotated at the carrier): both are replaced together, and the next request uses them.</p>
<form method="post" action="${PATH}/${a.id}/credentials" class="grid" id="account-credentials" autocomplete="off">${csrfField(ctx)}
<label>API key <input name="api_key" required maxlength="100" autocomplete="off"></label>
<label>API secret <input name="api_secret" type="password" required maxlength="200" autocomplete="new-password"></label>
<button type="submit">Replace credentials</button></form></section>
<section><h2>Delete</h2>
<form method="post" action="${PATH}/${a.id}/delete" class="inline" data-confirm="Delete provider account ${a.name}? Numbers bought through it keep their DIDs but can no longer be changed or released here.">${csrfField(ctx)}<button type="submit" class="danger">Delete account</button></form></section>`
    : ''
}
<p><a href="${PATH}">Back to provider accounts</a></p>`;
      return sendPage(reply, layout(ctx, `Provider account ${a.name}`, body));
    });

    if (!svc) return;
    const s = svc;

    app.post('/numbers/accounts', { config: admin }, async (req, reply) => {
      const f = req.body as Record<string, unknown>;
      const b = validate(accountIn, {
        ...fromForm(f, {
          name: 'text',
          provider: 'text',
          rest_url: 'optText',
          api_url: 'optText',
          api_key: 'text',
          api_secret: 'text',
          rate_per_s: 'optNum',
          concurrency: 'int',
          timeout_ms: 'int',
          signalling_cidrs: 'list',
          use_subaccounts: 'bool',
        }),
        voice: voiceOf(f),
      });
      const a = await s.createAccount(b, req.actor);
      return reply.redirect(`${PATH}/${a.id}?done=created`, 303);
    });

    app.post('/numbers/accounts/:id', { config: admin }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      const f = req.body as Record<string, unknown>;
      const b = validate(accountPatch, {
        ...fromForm(f, {
          rate_per_s: 'optNum',
          concurrency: 'int',
          timeout_ms: 'int',
          use_subaccounts: 'bool',
        }),
        voice: voiceOf(f),
      });
      await s.updateAccount(id, b, req.actor);
      return reply.redirect(`${PATH}/${id}?done=saved`, 303);
    });

    app.post('/numbers/accounts/:id/state', { config: admin }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      const f = (req.body ?? {}) as Record<string, unknown>;
      const b = validate(accountPatch, {
        active: f.active === 'true' ? true : f.active === 'false' ? false : f.active,
      });
      await s.updateAccount(id, b, req.actor);
      return reply.redirect(`${PATH}/${id}?done=saved`, 303);
    });

    app.post('/numbers/accounts/:id/credentials', { config: admin }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      const b = validate(accountPatch, fromForm(req.body, { api_key: 'text', api_secret: 'text' }));
      await s.updateAccount(id, b, req.actor);
      return reply.redirect(`${PATH}/${id}?done=saved`, 303);
    });

    app.post('/numbers/accounts/:id/delete', { config: admin }, async (req, reply) => {
      const { id } = validate(idParams, req.params);
      await s.deleteAccount(id, req.actor);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });
  };
}
