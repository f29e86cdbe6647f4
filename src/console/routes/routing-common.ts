// What the routing pages (sellers, clients, buyer groups, campaigns and links, DIDs, blocklists) share.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AppError } from '../../platform/http/errors.ts';
import type { EVERYONE } from '../access.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { sendPage } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ctxOf } from './users.ts';

export const idParams = z.object({ id: z.uuid() });
export const cfg = (roles: readonly string[]) => ({ console: { roles: roles as typeof EVERYONE } });
export const done = (reply: FastifyReply, to: string, what = 'saved') =>
  reply.redirect(`${to}${to.includes('?') ? '&' : '?'}done=${what}`, 303);
export const yes = (v: unknown) => v === 'on' || v === 'true';
export const bodyOf = (req: FastifyRequest) => (req.body ?? {}) as Record<string, unknown>;
export const checked = (b: boolean) => (b ? html` checked` : '');
export const selected = (b: boolean) => (b ? html` selected` : '');
export const when = (d: Date) => d.toISOString().slice(0, 10);
export const capText = (n: number | null) => (n === null ? '' : String(n));

/** `changed(v)`: says a change was made (the routing pages' plan caches drop) and passes `v` on. */
export const changedBy =
  (onChange: () => void) =>
  <T>(v: T): T => {
    onChange();
    return v;
  };

/**
 * A delete that may take other rows with it (a client's links, a group's members, a campaign's links
 * and DIDs): run as the form asks (`cascade` only once confirmed); refused with IN_USE, it answers
 * 409 with the page that says what else goes (`lines` from the refusal's details) and asks again.
 */
export async function deleteOrConfirm<D>(
  req: FastifyRequest,
  reply: FastifyReply,
  o: {
    title: string;
    /** The row's own page: the confirm page's action is `<page>/delete`, its Cancel goes back here. */
    page: string;
    /** Where a done delete goes (the list). */
    list: string;
    run: (cascade: boolean) => Promise<unknown>;
    lines: (details: D) => string[];
  },
) {
  try {
    await o.run(yes(bodyOf(req).cascade));
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== 'IN_USE') throw e;
    const page = confirmCascade(req, o.title, `${o.page}/delete`, o.lines(e.details as D), o.page);
    return sendPage(reply, page, 409);
  }
  return done(reply, o.list, 'deleted');
}

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

/** The filter of the sellers, clients and buyer groups lists: part of the name, and active or not. */
export interface OwnerListFilter {
  name?: string | undefined;
  active?: boolean | undefined;
  /** Sellers: archived ones (true), the others (false, when nothing is asked) or both (undefined). */
  archived?: boolean | undefined;
  /** What the headers and the pager carry along (the form's own values). */
  keep: { name?: string | undefined; state?: string | undefined; archived?: string | undefined };
}

function ownerFilterOf(query: unknown): OwnerListFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  const name = typeof q.name === 'string' ? q.name.trim().slice(0, 200) || undefined : undefined;
  const state = q.state === 'active' || q.state === 'inactive' ? q.state : undefined;
  const archived = q.archived === 'true' || q.archived === 'any' ? q.archived : undefined;
  return {
    name,
    active: state ? state === 'active' : undefined,
    archived: archived === 'any' ? undefined : archived === 'true',
    keep: { name, state, archived },
  };
}

/** The list's filter form (GET, so a filter is a link), keeping the order; `state` where rows have one. */
function ownerFilterForm(
  path: string,
  f: OwnerListFilter,
  o: { sort: string; dir: string },
  withState: boolean,
  withArchived: boolean,
): Html {
  return html`<form method="get" action="${path}" class="grid filters" id="list-filters">
<label>Name contains <input name="name" value="${f.name ?? ''}" maxlength="200"></label>
${
  withState
    ? html`<label>State <select name="state"><option value="">any</option><option value="active"${selected(f.keep.state === 'active')}>active</option><option value="inactive"${selected(f.keep.state === 'inactive')}>inactive</option></select></label>`
    : ''
}${
  withArchived
    ? html`<label>Archived <select name="archived"><option value="">not archived</option><option value="true"${selected(f.keep.archived === 'true')}>archived</option><option value="any"${selected(f.keep.archived === 'any')}>both</option></select></label>`
    : ''
}<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="dir" value="${o.dir}">
<button type="submit">Filter</button> <a href="${path}">Clear</a></form>`;
}

/**
 * What a sellers, clients or buyer groups list page reads from its query (the page, the order among
 * `keys`, newest first unless asked, the filter) and the parts that carry all three along: the
 * sortable column headers, the filter form and the pager.
 */
export function ownerListOf<K extends string>(
  req: FastifyRequest,
  path: string,
  keys: readonly [K, ...K[]],
  newest: K,
) {
  const q = pageQuery.parse(req.query);
  const o = sortQuery(keys, newest, 'desc').parse(req.query);
  const f = ownerFilterOf(req.query);
  return {
    q,
    o,
    f,
    th: (k: K, label: string) => sortTh(path, f.keep, o, k, label),
    filterForm: (withState: boolean, withArchived = false) =>
      ownerFilterForm(path, f, o, withState, withArchived),
    pager: (total: number) => pager(path, { ...f.keep, ...o }, { ...q, total }),
  };
}

/** What an empty list says: nothing there yet, or nothing matching the filter. */
export const emptyList = (f: OwnerListFilter, none: string, what: string) =>
  empty(f.keep.name || f.keep.state || f.keep.archived ? `No ${what} match this filter.` : none);
