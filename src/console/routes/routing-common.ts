// What the routing pages (sellers, clients, buyer groups, campaigns and links, DIDs, blocklists) share.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { EVERYONE } from '../access.ts';
import { type Html, html } from '../html.ts';
import { csrfField, layout } from '../pages/layout.ts';
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

/** Asked when a delete would take other rows with it: says what it removes, then deletes with cascade. */
export function confirmCascade(
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
