// The frame around every signed-in page: navigation by role, the user menu, flash messages.
import { ADMIN, may, SELLER_WRITE, STAFF_READ } from '../access.ts';
import { type Html, html } from '../html.ts';
import type { ConsoleUser } from '../users.ts';

export interface PageCtx {
  user: ConsoleUser;
  csrf: string;
  /** The current path, to mark the active navigation entry. */
  path: string;
  flash?: { kind: 'ok' | 'error'; text: string } | null;
}

const NAV: Array<{ href: string; label: string; show: (u: ConsoleUser) => boolean }> = [
  { href: '/console/live', label: 'Live floor', show: () => true },
  { href: '/console/sellers', label: 'Sellers', show: (u) => may(u, STAFF_READ) },
  { href: '/console/clients', label: 'Clients', show: (u) => may(u, STAFF_READ) },
  { href: '/console/groups', label: 'Groups', show: (u) => may(u, STAFF_READ) },
  { href: '/console/campaigns', label: 'Campaigns', show: () => true },
  { href: '/console/dids', label: 'DIDs', show: () => true },
  { href: '/console/blocklist', label: 'Blocklist', show: () => true },
  { href: '/console/calls', label: 'Calls', show: () => true },
  { href: '/console/caller-ids', label: 'Caller IDs', show: (u) => may(u, STAFF_READ) },
  { href: '/console/pbx', label: 'PBX', show: (u) => may(u, STAFF_READ) },
  { href: '/console/numbers', label: 'Numbers', show: () => true },
  { href: '/console/audit', label: 'Audit', show: (u) => may(u, STAFF_READ) },
  { href: '/console/api-keys', label: 'API keys', show: (u) => may(u, ADMIN) },
  { href: '/console/users', label: 'Users', show: (u) => may(u, ADMIN) },
];

export function head(title: string): Html {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · CapConduit</title><link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script></head>`;
}

export function layout(ctx: PageCtx, title: string, body: Html): Html {
  const u = ctx.user;
  return html`${head(title)}
<body data-csrf="${ctx.csrf}">
<header class="top">
  <a class="brand" href="/console/live">CapConduit</a>
  <button type="button" class="nav-toggle" aria-controls="main-nav" aria-expanded="false">Menu</button>
  <nav aria-label="main" id="main-nav">${NAV.filter((n) => n.show(u)).map(
    (n) =>
      html`<a href="${n.href}"${ctx.path.startsWith(n.href) ? html` aria-current="page"` : ''}>${n.label}</a>`,
  )}</nav>
  <div class="me">
    <a href="/console/account" class="account" title="your account: ${u.email}"><span class="email">${u.email}</span><span class="short">Account</span></a> <span class="role">${u.role}</span>
    <form method="post" action="/console/sign-out" class="inline"><input type="hidden" name="_csrf" value="${ctx.csrf}"><button type="submit" class="link">Sign out</button></form>
  </div>
</header>
<main>
<h1>${title}</h1>
${ctx.flash ? html`<p class="flash ${ctx.flash.kind}" role="status">${ctx.flash.text}</p>` : ''}
${body}
</main>
</body></html>`;
}

/** A page's standalone frame (sign-in, errors when nobody is signed in). */
export function bare(title: string, body: Html): Html {
  return html`${head(title)}<body class="bare"><main class="narrow"><p class="brand">CapConduit</p><h1>${title}</h1>${body}</main></body></html>`;
}

/** Hidden CSRF field of every form that changes something. */
export const csrfField = (ctx: { csrf: string }) =>
  html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;

/** Shown to users who may not change what a page shows. */
export const canChange = (u: ConsoleUser) => may(u, SELLER_WRITE);

/** Previous/next links of a server-paged list. */
export function pager(
  path: string,
  q: Record<string, string | number | undefined>,
  p: { limit: number; offset: number; total: number },
  /** The query names of this list's page, when a page has two paged lists. */
  names: { limit: string; offset: string } = { limit: 'limit', offset: 'offset' },
): Html {
  const link = (offset: number) => {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...q, [names.limit]: p.limit, [names.offset]: offset }))
      if (v !== undefined && String(v) !== '') sp.set(k, String(v));
    return `${path}?${sp}`;
  };
  const last = Math.min(p.offset + p.limit, p.total);
  return html`<nav class="pager" aria-label="pages"><span>${p.total ? `${p.offset + 1}–${last} of ${p.total}` : 'none'}</span>
${p.offset > 0 ? html`<a href="${link(Math.max(0, p.offset - p.limit))}">← previous</a>` : ''}
${last < p.total ? html`<a href="${link(p.offset + p.limit)}">next →</a>` : ''}</nav>`;
}

/** A GET form's hidden fields carrying another list's state (its filter, order, page); unset ones left out. */
export const hiddenFields = (o: Record<string, string | number | undefined>): Html[] =>
  Object.entries(o)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => html`<input type="hidden" name="${k}" value="${String(v)}">`);

export function empty(text: string): Html {
  return html`<p class="empty">${text}</p>`;
}
