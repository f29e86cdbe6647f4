// Console users (admins only) and every user's own account: password, TOTP, sessions. Changing a
// user's role, seller or disabled state, deleting one and turning its TOTP off ask the admin's own
// password (and code) again.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { notFound } from '../../platform/http/errors.ts';
import { ADMIN } from '../access.ts';
import { html } from '../html.ts';
import { type PageCtx, csrfField, empty, layout, pager } from '../pages/layout.ts';
import { sendPage, sessionOf, userOf } from '../plugin.ts';
import { pageQuery, passwordChangeBody, totpBody, userCreateBody, userUpdateBody } from '../schemas.ts';
import type { ConsoleServices } from '../services.ts';
import type { Session } from '../sessions.ts';
import { newTotpSecret, totpFor } from '../totp.ts';
import { reauthFields, requireReauth } from '../reauth.ts';
import { CONSOLE_ROLES } from '../../db/schema/console.ts';
import { SELLER_OPTIONS_MAX, USER_SORTS, type UserSort } from '../repository.ts';
import { sortQuery, sortTh } from '../pages/table.ts';

const idParams = z.object({ id: z.uuid() });

const USER_KEYS = Object.keys(USER_SORTS) as [UserSort, ...UserSort[]];
/** The list's filters; a value that is not one of the choices is no filter (the form only offers those). */
const userFilter = z.object({
  email: z
    .string()
    .trim()
    .toLowerCase()
    .max(254)
    .optional()
    .catch(undefined)
    .transform((v) => v || undefined),
  role: z.enum(CONSOLE_ROLES).optional().catch(undefined),
  seller_id: z.uuid().optional().catch(undefined),
  state: z.enum(['active', 'disabled']).optional().catch(undefined),
});

export function ctxOf(req: FastifyRequest, flash?: PageCtx['flash']): PageCtx {
  return { user: userOf(req), csrf: sessionOf(req).csrf, path: req.url, flash: flash ?? null };
}

/** A flash message carried across a redirect in the query string (only these fixed texts). */
const FLASH: Record<string, PageCtx['flash']> = {
  created: { kind: 'ok', text: 'Created.' },
  saved: { kind: 'ok', text: 'Saved.' },
  deleted: { kind: 'ok', text: 'Deleted.' },
  revoked: { kind: 'ok', text: 'Revoked.' },
  archived: {
    kind: 'ok',
    text: 'Archived: it routes nothing now; its API keys are revoked and its console users disabled.',
  },
  restored: {
    kind: 'ok',
    text: 'Restored: its DIDs route again. Its keys stay revoked and its users disabled.',
  },
  test: { kind: 'ok', text: 'Test delivery queued.' },
  cleared: { kind: 'ok', text: 'Sign-in delay cleared.' },
  signedout: { kind: 'ok', text: 'Signed out of the other sessions.' },
  totp_on: { kind: 'ok', text: 'Two-factor sign-in is on.' },
  totp_off: { kind: 'ok', text: 'Two-factor sign-in is off.' },
  password: { kind: 'ok', text: 'Password changed; your other sessions were signed out.' },
};
export const flashOf = (req: FastifyRequest) =>
  FLASH[String((req.query as Record<string, unknown>).done ?? '')] ?? null;

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function sessionsTable(ctx: PageCtx, list: Session[], current: string, action: (s: Session) => string) {
  if (!list.length) return empty('No live sessions.');
  return html`<div class="scroll"><table><thead><tr><th>Signed in</th><th>Last seen</th><th>Address</th><th>Browser</th><th></th></tr></thead><tbody>
${list.map(
  (
    s,
  ) => html`<tr><td>${when(s.createdAt)}</td><td>${when(s.seenAt)}</td><td>${s.ip}</td><td class="ua">${s.userAgent}</td>
<td>${s.id === current ? html`<em>this session</em>` : html`<form method="post" action="${action(s)}" class="inline">${csrfField(ctx)}<button type="submit" class="link">Sign out</button></form>`}</td></tr>`,
)}</tbody></table></div>`;
}

/** A seller chosen by name; past the most a list holds, its id typed instead. */
function sellerField(list: Array<{ id: string; name: string }>, cur: string | undefined, none: string) {
  if (list.length >= SELLER_OPTIONS_MAX)
    return html`<input name="seller_id" value="${cur ?? ''}" pattern="[0-9a-fA-F-]{36}" placeholder="seller id">`;
  return html`<select name="seller_id"><option value="">${none}</option>${list.map(
    (x) => html`<option value="${x.id}"${cur === x.id ? html` selected` : ''}>${x.name}</option>`,
  )}</select>`;
}

function errorsOf(e: z.ZodError) {
  return html`<ul class="flash error" role="alert">${e.issues.map((i) => html`<li>${i.path.join('.') || 'form'}: ${i.message}</li>`)}</ul>`;
}

export function userRoutes(s: ConsoleServices) {
  return async function routes(app: FastifyInstance) {
    const admin = { console: { roles: ADMIN } };

    const usersPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      formError?: z.ZodError,
      status = 200,
    ) => {
      const q = pageQuery.parse(req.query);
      const f = userFilter.parse(req.query);
      const o = sortQuery(USER_KEYS, 'email', 'asc').parse(req.query);
      const [{ rows, total }, sellerList] = await Promise.all([
        s.users.repo.list(
          { email: f.email, role: f.role, sellerId: f.seller_id, state: f.state },
          { ...q, order: o },
        ),
        s.users.repo.sellerOptions(),
      ]);
      const locks = await Promise.all(rows.map((r) => s.lockout.accountState(r.user.email)));
      const ctx = ctxOf(req, flashOf(req));
      const keep = { email: f.email, role: f.role, seller_id: f.seller_id, state: f.state };
      const th = (k: UserSort, label: string) => sortTh('/console/users', keep, o, k, label);
      const opt = (v: string, label: string, cur: string | undefined) =>
        html`<option value="${v}"${cur === v ? html` selected` : ''}>${label}</option>`;
      const sellerSelect = (cur: string | undefined, none: string) => sellerField(sellerList, cur, none);
      const filtered = Object.values(keep).some((v) => v !== undefined);
      const body = html`
<section><h2>Add a user</h2>${formError ? errorsOf(formError) : ''}
<form method="post" action="/console/users" class="grid">${csrfField(ctx)}
<label>Email <input type="email" name="email" required maxlength="254"></label>
<label>Password <input type="password" name="password" required minlength="12" maxlength="200" autocomplete="new-password"></label>
<label>Role <select name="role">${CONSOLE_ROLES.map((r) => html`<option>${r}</option>`)}</select></label>
<label>Seller (seller role) ${sellerField(
        sellerList.filter((x) => !x.archived),
        undefined,
        'none',
      )}</label>
<button type="submit">Create user</button></form></section>
<section><h2>Users</h2>
<form method="get" action="/console/users" class="grid" id="user-filters">
<label>Email contains <input type="search" name="email" value="${f.email ?? ''}" maxlength="254"></label>
<label>Role <select name="role"><option value="">any</option>${CONSOLE_ROLES.map((r) => opt(r, r, f.role))}</select></label>
<label>Seller ${sellerSelect(f.seller_id, 'any')}</label>
<label>State <select name="state"><option value="">any</option>${opt('active', 'active', f.state)}${opt('disabled', 'disabled', f.state)}</select></label>
<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}">
<button type="submit">Filter</button> <a href="/console/users">Clear</a></form>
${
  rows.length
    ? html`<div class="scroll"><table id="users-list"><thead><tr>${th('email', 'Email')}${th('role', 'Role')}${th('seller', 'Seller')}<th>TOTP</th>${th('disabled', 'State')}
${th('last_sign_in', 'Last sign-in')}${th('created_at', 'Since')}<th>Failed sign-ins</th><th></th></tr></thead><tbody>
${rows.map(({ user: u, sellerName }, i) => {
  const lock = locks[i]!;
  return html`<tr data-user="${u.email}"><td>${u.email}</td><td>${u.role}</td><td>${sellerName ?? ''}</td><td>${u.totpSecret ? 'on' : 'off'}</td>
<td>${u.disabledAt ? 'disabled' : 'active'}</td><td>${u.lastSignInAt ? when(u.lastSignInAt.getTime()) : 'never'}</td><td>${when(u.createdAt.getTime())}</td>
<td>${lock.failures}${lock.waitMs > 0 ? html` <strong>(delayed ${Math.ceil(lock.waitMs / 1000)} s)</strong>` : ''}
${lock.failures > 0 ? html`<form method="post" action="/console/users/${u.id}/clear-lock" class="inline">${csrfField(ctx)}<button type="submit" class="link">clear</button></form>` : ''}</td>
<td><a href="/console/users/${u.id}">Edit</a></td></tr>`;
})}</tbody></table></div>${pager('/console/users', { ...keep, ...o }, { ...q, total })}`
    : empty(filtered ? 'No users match this filter.' : 'No users yet.')
}</section>`;
      return sendPage(reply, layout(ctx, 'Users', body), status);
    };

    app.get('/users', { config: admin }, (req, reply) => usersPage(req, reply));

    app.post('/users', { config: admin }, async (req, reply) => {
      const b = userCreateBody.safeParse(req.body);
      if (!b.success) return usersPage(req, reply, b.error, 400);
      await s.users.create(b.data);
      return reply.redirect('/console/users?done=created', 303);
    });

    app.get('/users/:id', { config: admin }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const u = await s.users.repo.byId(id);
      if (!u) throw notFound('console user', id);
      const ctx = ctxOf(req, flashOf(req));
      const list = await s.sessions.list(id);
      const body = html`
<form method="post" action="/console/users/${id}" class="grid">${csrfField(ctx)}
<p>${u.email}</p>
<label>Role <select name="role">${CONSOLE_ROLES.map((r) => html`<option${r === u.role ? html` selected` : ''}>${r}</option>`)}</select></label>
<label>Seller (seller role) ${sellerField(await s.users.repo.sellerOptions(), u.sellerId ?? undefined, 'none')}</label>
<label class="check"><input type="checkbox" name="disabled"${u.disabledAt ? html` checked` : ''}> Disabled</label>
${reauthFields(ctx.user)}<button type="submit">Save (signs the user out everywhere)</button></form>
${u.totpSecret ? html`<form method="post" action="/console/users/${id}/totp-off" class="grid">${csrfField(ctx)}${reauthFields(ctx.user)}<button type="submit">Turn off two-factor sign-in</button></form>` : ''}
<h2>Sessions</h2>${sessionsTable(ctx, list, sessionOf(req).id, (x) => `/console/users/${id}/sessions/${x.id}/sign-out`)}
<h2>Delete</h2>
<form method="post" action="/console/users/${id}/delete" class="grid" id="user-delete">${csrfField(ctx)}<label class="check"><input type="checkbox" name="confirm" value="yes" required> I am sure: delete ${u.email} and end their sessions</label>
${reauthFields(ctx.user)}<button type="submit" class="danger">Delete user</button></form>`;
      return sendPage(reply, layout(ctx, `User ${u.email}`, body));
    });

    app.post('/users/:id', { config: admin }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const b = userUpdateBody.parse(req.body);
      const row = await s.users.repo.byId(id);
      if (!row) throw notFound('console user', id);
      // Role, seller and disabled state are what the form changes: each is who may do what, so any
      // change asks the admin to prove it is them (a form sent back unchanged changes nothing).
      const sellerId = b.role === 'seller' ? (b.seller_id ?? null) : null;
      if (row.role === b.role && (row.sellerId ?? null) === sellerId && !!row.disabledAt === b.disabled)
        return reply.redirect(`/console/users/${id}?done=saved`, 303);
      await requireReauth(s, req);
      await s.users.update(userOf(req).id, id, {
        role: b.role,
        sellerId: b.seller_id ?? null,
        disabled: b.disabled,
      });
      return reply.redirect(`/console/users/${id}?done=saved`, 303);
    });

    app.post('/users/:id/delete', { config: admin }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      z.object({ confirm: z.literal('yes') }).parse(req.body);
      await requireReauth(s, req);
      await s.users.remove(userOf(req).id, id);
      return reply.redirect('/console/users?done=deleted', 303);
    });

    app.post('/users/:id/clear-lock', { config: admin }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      const u = await s.users.repo.byId(id);
      if (!u) throw notFound('console user', id);
      await s.lockout.clearAccount(u.email);
      return reply.redirect('/console/users?done=cleared', 303);
    });

    app.post('/users/:id/totp-off', { config: admin }, async (req, reply) => {
      const { id } = idParams.parse(req.params);
      await requireReauth(s, req);
      await s.users.disableTotp(id);
      return reply.redirect(`/console/users/${id}?done=totp_off`, 303);
    });

    app.post('/users/:id/sessions/:sid/sign-out', { config: admin }, async (req, reply) => {
      const { id, sid } = z
        .object({ id: z.uuid(), sid: z.string().regex(/^[0-9a-f]{64}$/) })
        .parse(req.params);
      await s.sessions.destroy(sid, id);
      return reply.redirect(`/console/users/${id}?done=saved`, 303);
    });

    // Everyone's own account.
    const accountPage = async (
      req: FastifyRequest,
      reply: FastifyReply,
      extra?: ReturnType<typeof html>,
      status = 200,
    ) => {
      const me = userOf(req);
      const ctx = ctxOf(req, flashOf(req));
      const list = await s.sessions.list(me.id);
      const body = html`${extra ?? ''}
<section><h2>Password</h2>
<form method="post" action="/console/account/password" class="grid">${csrfField(ctx)}
<label>Current password <input type="password" name="current" required maxlength="200" autocomplete="current-password"></label>
<label>New password <input type="password" name="password" required minlength="12" maxlength="200" autocomplete="new-password"></label>
<button type="submit">Change password</button></form></section>
<section><h2>Two-factor sign-in</h2>
${
  me.totp
    ? html`<p>On.</p><form method="post" action="/console/account/totp-off" class="grid" id="totp-off">${csrfField(ctx)}${reauthFields(me)}<button type="submit">Turn off</button></form>`
    : html`<p>Off. <a href="/console/account/totp">Set up an authenticator app</a></p>`
}</section>
<section><h2>Your sessions</h2>${sessionsTable(ctx, list, sessionOf(req).id, (x) => `/console/account/sessions/${x.id}/sign-out`)}
<form method="post" action="/console/account/sign-out-others" class="inline">${csrfField(ctx)}<button type="submit">Sign out everywhere else</button></form></section>`;
      return sendPage(reply, layout(ctx, 'Your account', body), status);
    };

    app.get('/account', (req, reply) => accountPage(req, reply));

    app.post('/account/password', async (req, reply) => {
      const b = passwordChangeBody.safeParse(req.body);
      if (!b.success) return accountPage(req, reply, errorsOf(b.error), 400);
      const ok = await s.users.changePassword(
        userOf(req).id,
        b.data.current,
        b.data.password,
        sessionOf(req).id,
      );
      if (!ok)
        return accountPage(
          req,
          reply,
          html`<p class="flash error" role="alert">The current password is wrong.</p>`,
          400,
        );
      return reply.redirect('/console/account?done=password', 303);
    });

    app.post('/account/sign-out-others', async (req, reply) => {
      await s.sessions.destroyAll(userOf(req).id, sessionOf(req).id);
      return reply.redirect('/console/account?done=signedout', 303);
    });

    app.post('/account/sessions/:sid/sign-out', async (req, reply) => {
      const { sid } = z.object({ sid: z.string().regex(/^[0-9a-f]{64}$/) }).parse(req.params);
      await s.sessions.destroy(sid, userOf(req).id);
      return reply.redirect('/console/account?done=signedout', 303);
    });

    // TOTP set-up: the secret waits in Redis (10 min) until a code from the app confirms it.
    const setupKey = (userId: string) => s.keys.plain('console', 'totp-setup', userId);
    app.get('/account/totp', async (req, reply) => {
      const me = userOf(req);
      const secret = newTotpSecret();
      await s.redis.set(setupKey(me.id), secret, 'EX', 600);
      return totpSetupPage(req, reply, secret);
    });
    const totpSetupPage = (
      req: FastifyRequest,
      reply: FastifyReply,
      secret: string,
      error?: string,
      status = 200,
    ) => {
      const me = userOf(req);
      const ctx = ctxOf(req);
      const body = html`<p>Add this key to your authenticator app (or open the link on the phone that holds it), then enter the code it shows.</p>
<p>Key: <code class="secret" data-testid="totp-secret">${secret}</code></p>
<p><a href="${totpFor(secret, me.email).toString()}">otpauth link</a></p>
${error ? html`<p class="flash error" role="alert">${error}</p>` : ''}
<form method="post" action="/console/account/totp" class="grid">${csrfField(ctx)}
<label>Code <input name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required autocomplete="one-time-code"></label>
<button type="submit">Turn on</button></form>`;
      return sendPage(reply, layout(ctx, 'Two-factor sign-in', body), status);
    };
    app.post('/account/totp', async (req, reply) => {
      const me = userOf(req);
      const secret = await s.redis.get(setupKey(me.id));
      if (!secret) return reply.redirect('/console/account/totp', 303);
      const b = totpBody.safeParse(req.body);
      if (!b.success || !(await s.users.enableTotp(me.id, secret, b.data.code)))
        return totpSetupPage(req, reply, secret, 'That code does not match: try the next one.', 400);
      await s.redis.del(setupKey(me.id));
      return reply.redirect('/console/account?done=totp_on', 303);
    });
    app.post('/account/totp-off', async (req, reply) => {
      await requireReauth(s, req);
      await s.users.disableTotp(userOf(req).id);
      return reply.redirect('/console/account?done=totp_off', 303);
    });
  };
}
