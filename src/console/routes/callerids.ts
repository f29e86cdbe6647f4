// Caller IDs: pools with their live state, numbers with usage against their limits and health,
// the CSV import (a file streamed with a progress bar by the page's script, or pasted text without
// it) with the rejected lines listed, and each pool's VICIdial snippet ready to paste. Everything through the caller-ID service with the API's
// schemas; staff change, viewers look, seller users have no caller IDs.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImportResult } from '../../callerid/import.ts';
import { NUMBER_SORTS, type NumberSort, type POOL_SORTS } from '../../callerid/repository.ts';
import {
  numberBody,
  numberParams,
  poolBody,
  poolFilter,
  poolOf,
  poolParams,
} from '../../callerid/schemas.ts';
import type { CallerIdService } from '../../callerid/service.ts';
import { vicidialSnippet, vicidialTemplate } from '../../callerid/snippet.ts';
import { AppError } from '../../platform/http/errors.ts';
import { may, STAFF_READ, STAFF_WRITE } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, hiddenFields, layout, pager } from '../pages/layout.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { publicUrl, sendPage, wantsHtml } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ctxOf, flashOf } from './users.ts';

/** As the API's import: the file is streamed, never held whole. */
const IMPORT_BODY_LIMIT = 512 * 1024 * 1024;
// The live figures (available, resting, uses) are Redis's: a page of pools is ordered by what
// PostgreSQL holds, so only those columns sort.
const POOL_KEYS = [
  'id',
  'name',
  'numbers',
  'resting',
] as const satisfies readonly (keyof typeof POOL_SORTS)[];
const NUM_SORTS = Object.keys(NUMBER_SORTS) as [NumberSort, ...NumberSort[]];
const PATH = '/console/caller-ids';
const at = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 16) : '');
const used = (n: number, limit: number | null) => (limit === null ? `${n}` : `${n} / ${limit}`);

export function importResultHtml(r: ImportResult): Html {
  return html`<section id="import-result" aria-live="polite"><h2>Import</h2>
<p><strong>${r.imported}</strong> of ${r.lines} line(s) imported${r.pools_created.length ? html`; new pool(s): ${r.pools_created.join(', ')}` : ''}.
${r.rejected_total ? html`<strong>${r.rejected_total}</strong> rejected${r.rejected_total > r.rejected.length ? html` (the first ${r.rejected.length} listed)` : ''}:` : 'None rejected.'}</p>
${r.rejected.length ? html`<ol id="import-rejected" class="rejected">${r.rejected.map((x) => html`<li>line ${x.line}: ${x.reason}</li>`)}</ol>` : ''}</section>`;
}

export function callerIdRoutes(svc: CallerIdService | undefined, configuredUrl?: string) {
  return async function routes(app: FastifyInstance) {
    const read = { console: { roles: STAFF_READ } };
    const write = { console: { roles: STAFF_WRITE } };

    // A pool's VICIdial / Asterisk routine, ready to paste: the daemon's public URL (PUBLIC_URL, else
    // as this console was reached), the pool, its fallback.
    app.get('/caller-ids/pools/:id/vicidial', { config: read }, async (req, reply) => {
      const ctx = ctxOf(req);
      if (!svc)
        return sendPage(
          reply,
          layout(ctx, 'VICIdial snippet', empty('The caller-ID module does not run on this instance.')),
        );
      const { id } = validate(poolParams, req.params);
      const p = await svc.getPool(id);
      const url = publicUrl(req, configuredUrl);
      const text = vicidialSnippet(vicidialTemplate(), { url, pool: p.id, fallback: p.fallback_number });
      const body = html`<p>Paste into the dialer's Asterisk as <code>vicidial-cid.conf</code>, <code>#include vicidial-cid.conf</code> from <code>extensions.conf</code>, put a key with the <code>dialer</code> role (made on <strong>API keys</strong>, limited to the Asterisk's address) in <code>CAPCONDUIT_DIALER_KEY</code>, and call <code>Gosub(capconduit-cid,s,1(${p.id},&lt;number dialled&gt;))</code> before the carrier's <code>Dial()</code>. The key travels in the <code>Authorization: Bearer</code> header, never in the URL. <code>CAPCONDUIT_URL</code> is ${
        configuredUrl
          ? html`the daemon's public address (<code>${url}</code>, its <code>PUBLIC_URL</code> setting)`
          : html`the address this console was reached at (<code>${url}</code>; set <code>PUBLIC_URL</code> to print the address dialers use instead)`
      }: change it if the dialer reaches the daemon elsewhere.</p>
<p><button type="button" data-copy="vicidial-snippet">Copy to clipboard</button> <span class="status" id="copy-status" aria-live="polite"></span></p>
<pre id="vicidial-snippet" class="snippet">${text}</pre>
<p><a href="${PATH}">Back to caller IDs</a></p>`;
      return sendPage(reply, layout(ctx, `VICIdial snippet for pool ${p.id}`, body));
    });

    app.get('/caller-ids', { config: read }, async (req, reply) => {
      const ctx = ctxOf(req, flashOf(req));
      if (!svc)
        return sendPage(
          reply,
          layout(ctx, 'Caller IDs', empty('The caller-ID module does not run on this instance.')),
        );
      const raw = req.query as Record<string, unknown>;
      const q = pageQuery.parse(req.query);
      const pool = poolOf(validate(poolFilter, { pool: (req.query as { pool?: string }).pool || undefined }));
      // Two paged lists on one page: the pools' filter, order and page under p-names.
      const ps = sortQuery(POOL_KEYS, 'id', 'asc').parse({ sort: raw.psort, dir: raw.pdir });
      const ppq = pageQuery.parse({ limit: raw.plimit, offset: raw.poffset });
      const pq = typeof raw.pq === 'string' ? raw.pq.trim().slice(0, 100) || undefined : undefined;
      const ns = sortQuery(NUM_SORTS, 'number', 'asc').parse(req.query);
      const [poolPage, poolIds, nums] = await Promise.all([
        svc.listPools({ ...ppq, q: pq, order: ps }),
        svc.poolIds(),
        svc.numbersLive(pool, { ...ns, limit: q.limit, offset: q.offset }),
      ]);
      const pools = poolPage.items;
      const statOf = new Map((await svc.poolStats(pools.map((p) => p.id))).map((s) => [s.pool, s]));
      const w = may(ctx.user, STAFF_WRITE);
      const keepP = { pq, psort: ps.sort, pdir: ps.dir, plimit: ppq.limit, poffset: ppq.offset };
      const keepN = { pool, sort: ns.sort, dir: ns.dir, limit: q.limit, offset: q.offset };
      // Pool headers carry their own order (psort/pdir) so both tables keep theirs.
      const pth = (k: (typeof POOL_KEYS)[number], label: string, cls = '') =>
        sortTh(PATH, { ...keepN, pq }, ps, k, label, cls, { sort: 'psort', dir: 'pdir' });
      const nth = (k: NumberSort, label: string, cls = '') =>
        sortTh(PATH, { ...keepP, pool }, ns, k, label, cls);
      const body = html`<section><h2>Pools</h2>
<form method="get" action="${PATH}" class="grid filters" id="pool-filter"><label>Id or name contains <input name="pq" value="${pq ?? ''}" maxlength="100"></label>
${hiddenFields({ psort: ps.sort, pdir: ps.dir, ...keepN })}<button type="submit">Filter</button> <a href="${PATH}">Clear</a></form>
${
  pools.length
    ? html`<div class="scroll"><table id="pools"><thead><tr>${pth('id', 'Pool')}${pth('name', 'Name')}${pth('numbers', 'Numbers', 'num')}<th class="num">Available</th>${pth('resting', 'Resting', 'num')}<th class="num">At a limit</th><th class="num">Uses this hour</th><th class="num">Uses today</th><th>Fallback</th><th>Health rule</th><th>Dialplan</th>${w ? html`<th></th>` : ''}</tr></thead><tbody>
${pools.map((p) => {
  const s = statOf.get(p.id);
  return html`<tr data-pool="${p.id}"><td><a href="${PATH}?pool=${encodeURIComponent(p.id)}">${p.id}</a></td><td>${p.name ?? ''}</td><td class="num">${p.numbers}</td>
<td class="num">${s?.available ?? 0}</td><td class="num">${s?.resting ?? 0}</td><td class="num">${(s?.exhausted_hourly ?? 0) + (s?.exhausted_daily ?? 0)}</td>
<td class="num">${s?.uses_hour ?? 0}</td><td class="num">${s?.uses_day ?? 0}</td><td>${p.fallback_number ?? ''}</td>
<td>${p.health_min_answer_rate > 0 ? `below ${Math.round(p.health_min_answer_rate * 100)}% answered of the last ${p.health_window}: rest ${p.health_rest_s} s` : 'none'}</td>
<td><a href="${PATH}/pools/${encodeURIComponent(p.id)}/vicidial">VICIdial snippet</a></td>
${w ? html`<td><form method="post" action="${PATH}/pools/${encodeURIComponent(p.id)}/delete" class="inline" data-confirm="Delete pool ${p.id}? Its numbers stay, outside it.">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`;
})}</tbody></table></div>${pager(PATH, { ...keepN, pq, psort: ps.sort, pdir: ps.dir }, { ...ppq, total: poolPage.total }, { limit: 'plimit', offset: 'poffset' })}`
    : empty(
        pq
          ? 'No pools match this filter.'
          : 'No pools yet: create one, or import numbers with a pool column.',
      )
}
${
  w
    ? html`<details><summary>New pool</summary><form method="post" action="${PATH}/pools" class="grid">${csrfField(ctx)}
<label>Id <input name="id" required pattern="[A-Za-z0-9_.\\-]{1,64}" placeholder="sales-east"></label>
<label>Name <input name="name" maxlength="200"></label>
<label>Fallback number <input name="fallback_number" placeholder="+14155550100"></label>
<label>Health window (calls) <input name="health_window" type="number" min="1" max="1000" placeholder="20"></label>
<label>Rest below answer rate (0–1) <input name="health_min_answer_rate" type="number" min="0" max="1" step="0.01" placeholder="0"></label>
<label>Rest for (s) <input name="health_rest_s" type="number" min="1" placeholder="3600"></label>
<button type="submit">Create pool</button></form></details>`
    : ''
}</section>
${
  w
    ? html`<section><h2>Import numbers (CSV)</h2>
<p><small>Columns: <code>caller_id</code> (required), <code>carrier</code>, <code>area_code</code>, <code>state</code>, <code>hourly_limit</code>, <code>daily_limit</code>, <code>pool</code>. A number already there is updated; bad lines are listed and skipped.</small></p>
<form method="post" action="${PATH}/import" class="grid" id="cid-import">${csrfField(ctx)}
<label>Pool for lines without one <select name="pool"><option value="">none</option>${poolIds.map((id) => html`<option${id === pool ? html` selected` : ''}>${id}</option>`)}</select></label>
<label>CSV file <input type="file" name="file" accept=".csv,text/csv"></label>
<label class="wide">or paste CSV (up to 64 KB) <textarea name="csv" rows="4" placeholder="caller_id,pool&#10;+14155550100,sales-east"></textarea></label>
<progress id="import-progress" max="100" value="0" hidden></progress>
<button type="submit">Import</button></form>
<div id="import-output"></div></section>`
    : ''
}
<section><h2>Numbers${pool ? html` in ${pool}` : ''}</h2>
<form method="get" action="${PATH}" class="grid"><label>Pool <select name="pool"><option value="">every pool</option>${poolIds.map((id) => html`<option${id === pool ? html` selected` : ''}>${id}</option>`)}</select></label>
${hiddenFields({ sort: ns.sort, dir: ns.dir, ...keepP })}<button type="submit">Show</button></form>
${
  nums.items.length
    ? html`<div class="scroll"><table id="numbers"><thead><tr>${nth('number', 'Number')}<th>Pools</th>${nth('carrier', 'Carrier')}${nth('area_code', 'Area')}${nth('state', 'State')}
${nth('hourly_limit', 'This hour / limit', 'num')}${nth('daily_limit', 'Today / limit', 'num')}${nth('total', 'Total', 'num')}${nth('answered', 'Answered', 'num')}${nth('unanswered', 'Unanswered', 'num')}<th>Health</th>${nth('last_used', 'Last used')}<th>Now</th>${w ? html`<th></th>` : ''}</tr></thead><tbody>
${nums.items.map((n) => {
  const l = n.live;
  const state = !n.active
    ? 'off'
    : l.rested_until
      ? `resting until ${at(l.rested_until)}`
      : l.exhausted
        ? `${l.exhausted} limit reached`
        : l.reserved_until
          ? 'reserved'
          : 'available';
  return html`<tr data-number="${n.number}"><td>${n.number}</td><td>${n.pools.join(', ')}</td><td>${n.carrier ?? ''}</td><td>${n.area_code ?? ''}</td><td>${n.state ?? ''}</td>
<td class="num${l.exhausted === 'hourly' ? ' full' : ''}">${used(l.uses_hour, n.hourly_limit)}</td><td class="num${l.exhausted === 'daily' ? ' full' : ''}">${used(l.uses_day, n.daily_limit)}</td>
<td class="num">${l.total}</td><td class="num">${l.answered}</td><td class="num">${l.unanswered}</td>
<td>${l.health.answer_rate === null ? 'no calls yet' : `${Math.round(l.health.answer_rate * 100)}% of ${l.health.calls}`}</td><td>${at(l.last_used_at)}</td><td>${state}</td>
${w ? html`<td><form method="post" action="${PATH}/numbers/${encodeURIComponent(n.number)}/delete" class="inline" data-confirm="Delete caller ID ${n.number} from every pool?">${csrfField(ctx)}<button type="submit" class="link">Delete</button></form></td>` : ''}</tr>`;
})}</tbody></table></div>${pager(PATH, { ...keepP, pool, sort: ns.sort, dir: ns.dir }, { ...q, total: nums.total })}`
    : empty(pool ? 'No numbers in this pool.' : 'No caller IDs yet.')
}
${
  w
    ? html`<details><summary>Add a number</summary><form method="post" action="${PATH}/numbers" class="grid">${csrfField(ctx)}
<label>Number <input name="number" required placeholder="+14155550100"></label>
<label>Pools (comma-separated) <input name="pools" value="${pool ?? ''}"></label>
<label>Carrier <input name="carrier" maxlength="100"></label>
<label>Hourly limit <input name="hourly_limit" type="number" min="0"></label>
<label>Daily limit <input name="daily_limit" type="number" min="0"></label>
<button type="submit">Add number</button></form></details>`
    : ''
}</section>`;
      return sendPage(reply, layout(ctx, 'Caller IDs', body));
    });

    if (!svc) return;
    const service = svc;

    app.post(`/caller-ids/pools`, { config: write }, async (req, reply) => {
      const b = validate(
        poolBody,
        fromForm(req.body, {
          id: 'text',
          name: 'optText',
          fallback_number: 'optText',
          health_window: 'int',
          health_min_answer_rate: 'optNum',
          health_rest_s: 'int',
        }),
      );
      await service.createPool(b);
      return reply.redirect(`${PATH}?done=created`, 303);
    });
    app.post(`/caller-ids/pools/:id/delete`, { config: write }, async (req, reply) => {
      const { id } = validate(poolParams, req.params);
      await service.deletePool(id);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });
    app.post(`/caller-ids/numbers`, { config: write }, async (req, reply) => {
      const { number, ...rest } = validate(
        numberBody,
        fromForm(req.body, {
          number: 'text',
          pools: 'list',
          carrier: 'optText',
          hourly_limit: 'int',
          daily_limit: 'int',
        }),
      );
      await service.createNumber(number, rest);
      return reply.redirect(`${PATH}?done=created`, 303);
    });
    app.post(`/caller-ids/numbers/:number/delete`, { config: write }, async (req, reply) => {
      const { number } = validate(numberParams, req.params);
      await service.deleteNumber(number, undefined);
      return reply.redirect(`${PATH}?done=deleted`, 303);
    });

    // The import, in a scope of its own: there a CSV body reaches the handler as a stream.
    await app.register(async (scope) => {
      scope.addContentTypeParser(['text/csv', 'application/octet-stream'], (_req, payload, done) =>
        done(null, payload),
      );
      scope.post(
        '/caller-ids/import',
        { config: write, bodyLimit: IMPORT_BODY_LIMIT },
        async (req: FastifyRequest, reply) => {
          const b = req.body as (Readable & { pipe?: unknown }) | Record<string, unknown> | undefined;
          if (b && typeof (b as Readable).pipe === 'function') {
            // The page's script streams the file: the default pool comes in the query.
            const q = validate(poolFilter, req.query);
            return service.importCsv(b as Readable, poolOf(q) ?? null);
          }
          const f = (b ?? {}) as Record<string, unknown>;
          const q = validate(poolFilter, { pool: typeof f.pool === 'string' && f.pool ? f.pool : undefined });
          const text = typeof f.csv === 'string' ? f.csv : '';
          if (!text.trim())
            throw new AppError('VALIDATION_FAILED', 'choose a CSV file or paste its lines', [
              { path: 'csv', message: 'empty' },
            ]);
          const r = await service.importCsv(Readable.from([text]), poolOf(q) ?? null);
          if (!wantsHtml(req)) return r;
          const ctx = ctxOf(req);
          return sendPage(
            reply,
            layout(
              ctx,
              'Caller IDs: import',
              html`${importResultHtml(r)}<p><a href="${PATH}">Back to caller IDs</a></p>`,
            ),
          );
        },
      );
    });
  };
}
