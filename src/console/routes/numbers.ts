// Numbers at carriers: the numbers we hold (a seller user: its own), search a provider account's
// inventory, buy in an area code (a job), release with a confirmation (a job), and the jobs with
// their progress. Through the provisioning service with the API's schemas; staff change.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { NUMBER_SORTS, type NumberSort } from '../../provisioning/repository.ts';
import { e164Params, provisionBatchIn, searchIn, searchQueryOf } from '../../provisioning/schemas.ts';
import type { ProvisioningService } from '../../provisioning/service.ts';
import type { RoutingService } from '../../routing/service.ts';
import { ADMIN, EVERYONE, may, STAFF_WRITE, scopeOf } from '../access.ts';
import { fromForm, validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { csrfField, empty, layout, pager } from '../pages/layout.ts';
import { sortQuery, sortTh } from '../pages/table.ts';
import { sendPage, userOf } from '../plugin.ts';
import { pageQuery } from '../schemas.ts';
import { ACCOUNTS_PATH, numberTabs } from './provider-accounts.ts';
import { ctxOf, flashOf } from './users.ts';

const PATH = '/console/numbers';
const SORTS = Object.keys(NUMBER_SORTS) as [NumberSort, ...NumberSort[]];
const idParams = z.object({ id: z.uuid() });
const at = (d: Date | null) => (d ? d.toISOString().replace('T', ' ').slice(0, 16) : '');

const JOBS_SHOWN = 10;

/** Newer/older links of the jobs list, keeping the numbers list's own filter and order. */
function jobPager(offset: number, total: number, keep: Record<string, string | undefined>): Html {
  const link = (o: number) => {
    const sp = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...keep, joffset: o ? String(o) : undefined })) if (v) sp.set(k, v);
    const q = sp.toString();
    return `${PATH}${q ? `?${q}` : ''}`;
  };
  const last = Math.min(offset + JOBS_SHOWN, total);
  return html`<nav class="pager" aria-label="jobs pages"><span>${offset + 1}–${last} of ${total}</span>
${offset > 0 ? html`<a href="${link(Math.max(0, offset - JOBS_SHOWN))}">← newer</a>` : ''}
${last < total ? html`<a href="${link(offset + JOBS_SHOWN)}">older →</a>` : ''}</nav>`;
}

function progress(done: number, total: number): Html {
  return html`<progress max="${Math.max(total, 1)}" value="${done}" aria-label="${done} of ${total} done"></progress> ${done} / ${total}`;
}

export function numberRoutes(svc: ProvisioningService | undefined, routing: RoutingService) {
  return async function routes(app: FastifyInstance) {
    const read = { console: { roles: EVERYONE } };
    const write = { console: { roles: STAFF_WRITE } };
    const none = (req: FastifyRequest, reply: FastifyReply) =>
      sendPage(
        reply,
        layout(ctxOf(req), 'Numbers', empty('The provisioning module does not run on this instance.')),
      );
    /** A job made in the console: no API key, no Idempotency-Key (a form is sent once). */
    const startJob = (
      s: ProvisioningService,
      kind: 'provision' | 'release',
      accountId: string,
      sellerId: string | null,
      body: unknown,
      inputs: Record<string, unknown>[],
    ) => s.createJob({ kind, accountId, sellerId, keyId: null, idem: null }, { kind, body }, inputs);

    app.get('/numbers', { config: read }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const ctx = ctxOf(req, flashOf(req));
      const scope = scopeOf(ctx.user);
      const w = may(ctx.user, STAFF_WRITE);
      const q = pageQuery
        .extend({ status: z.enum(['owned', 'released']).optional().catch(undefined) })
        .parse(req.query);
      const s = sortQuery(SORTS, 'bought', 'desc').parse(req.query);
      // The jobs list pages on its own (`joffset`), newest first, ten at a time.
      const joffset = z.coerce
        .number()
        .int()
        .min(0)
        .max(1_000_000)
        .catch(0)
        .parse((req.query as Record<string, unknown>).joffset);
      const [nums, jobs, sellers, accounts] = await Promise.all([
        svc.repo.listNumbers({ sellerId: scope, status: q.status }, { ...q, ...s }),
        svc.repo.listJobs(scope, { limit: JOBS_SHOWN, offset: joffset }),
        scope ? null : routing.listSellers({ limit: 500, offset: 0 }),
        svc.repo.accounts(),
      ]);
      const disabled = new Set(accounts.filter((a) => !a.active).map((a) => a.id));
      const sellerName = new Map((sellers?.items ?? []).map((x) => [x.id, x.name]));
      const counts = await Promise.all(jobs.items.map((j) => svc.repo.itemCounts(j.id)));
      const keep = { status: q.status };
      const th = (k: NumberSort, label: string) => sortTh(PATH, keep, s, k, label);
      const body = html`${numberTabs('numbers')}${
        w && accounts.length
          ? html`<section><h2>Search and buy</h2>
<form method="get" action="${PATH}/search" class="grid" id="number-search">
<label>Provider account <select name="provider_account_id">${accounts.map((a) => html`<option value="${a.id}"${a.active ? '' : html` disabled`}>${a.name}${a.active ? '' : ' (disabled)'}</option>`)}</select></label>
<label>Country <input name="country" value="US" maxlength="2" pattern="[A-Z]{2}"></label>
<label>Area code (NPA) <input name="npa" required pattern="[2-9][0-9]{2}" placeholder="415"></label>
<button type="submit">Search</button></form></section>`
          : w
            ? html`<p class="empty">No provider account yet: <a href="${ACCOUNTS_PATH}">add one</a> to buy numbers.</p>`
            : ''
      }
<section><h2>Jobs</h2>
${
  jobs.items.length
    ? html`<div class="scroll"><table id="jobs"><thead><tr><th>Started</th><th>Kind</th><th>Progress</th><th>Status</th><th></th></tr></thead><tbody>
${jobs.items.map((j, i) => {
  const c = counts[i]!;
  const done = j.total - (c.queued ?? 0) - (c.chosen ?? 0);
  return html`<tr data-job="${j.id}"><td>${at(j.createdAt)}</td><td>${j.kind}</td><td>${progress(done, j.total)}</td><td>${j.status}${j.status !== 'completed' && disabled.has(j.providerAccountId) ? html` <strong class="bad">(waiting: account disabled)</strong>` : ''}</td><td><a href="${PATH}/jobs/${j.id}">Details</a></td></tr>`;
})}</tbody></table></div>${jobPager(joffset, jobs.total, { ...keep, sort: s.sort, dir: s.dir })}`
    : empty('No jobs yet.')
}</section>
<section><h2>Numbers</h2>
<form method="get" action="${PATH}" class="grid"><label>Status <select name="status"><option value="">any</option>${['owned', 'released'].map((x) => html`<option${q.status === x ? html` selected` : ''}>${x}</option>`)}</select></label>
<input type="hidden" name="sort" value="${s.sort}"><input type="hidden" name="dir" value="${s.dir}"><button type="submit">Show</button></form>
${
  nums.items.length
    ? html`<div class="scroll"><table id="numbers"><thead><tr>${th('e164', 'Number')}${scope ? '' : html`<th>Seller</th>`}${th('status', 'Status')}${th('bought', 'Bought (UTC)')}${th('released', 'Released (UTC)')}${w ? html`<th></th>` : ''}</tr></thead><tbody>
${nums.items.map(
  (
    n,
  ) => html`<tr data-number="${n.e164}"><td>${n.e164}</td>${scope ? '' : html`<td>${sellerName.get(n.sellerId) ?? n.sellerId}</td>`}<td>${n.status}</td><td>${at(n.boughtAt)}</td><td>${at(n.releasedAt)}</td>
${w ? html`<td>${n.status === 'owned' ? html`<form method="post" action="${PATH}/${encodeURIComponent(n.e164)}/release" class="inline" data-confirm="Release ${n.e164}? It goes back to the carrier and its DID stops routing.">${csrfField(ctx)}<button type="submit" class="link">Release</button></form>` : ''}</td>` : ''}</tr>`,
)}</tbody></table></div>${pager(PATH, { ...keep, sort: s.sort, dir: s.dir }, { ...q, total: nums.total })}`
    : empty('No numbers yet.')
}</section>`;
      return sendPage(reply, layout(ctx, 'Numbers', body));
    });

    app.get('/numbers/search', { config: write }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const f = req.query as Record<string, unknown>;
      const b = validate(
        searchIn,
        fromForm(f, { provider_account_id: 'text', country: 'optText', npa: 'optText' }),
      );
      const r = await svc.search(b.provider_account_id, searchQueryOf(b));
      const ctx = ctxOf(req);
      // Numbers are bought for a seller that is not archived (an archived one routes nothing).
      const sellers = await routing.listSellers({ limit: 500, offset: 0, archived: false });
      const body = html`<p>${r.count} number(s) for sale in ${b.npa ?? 'this search'} (the first ${r.numbers.length} shown).</p>
${
  r.numbers.length
    ? html`<div class="scroll"><table id="search-results"><thead><tr><th>Number</th><th>Type</th><th>Features</th><th>Cost</th></tr></thead><tbody>
${r.numbers.map((n) => html`<tr><td>+${n.msisdn}</td><td>${n.type}</td><td>${n.features.join(', ')}</td><td>${n.cost ?? ''}</td></tr>`)}</tbody></table></div>
<h2>Buy</h2><p>The carrier picks among the numbers for sale in the area code; each bought number becomes a DID of the seller.</p>
<form method="post" action="${PATH}/buy" class="grid" id="number-buy" data-confirm="Buy these numbers? The carrier charges for them.">${csrfField(ctx)}
<input type="hidden" name="provider_account_id" value="${b.provider_account_id}"><input type="hidden" name="country" value="${b.country}"><input type="hidden" name="npa" value="${b.npa ?? ''}">
<label>Seller <select name="seller_id" required>${sellers.items.map((x) => html`<option value="${x.id}">${x.name}</option>`)}</select></label>
<label>How many <input name="count" type="number" min="1" max="1000" value="1" required></label>
<button type="submit">Buy in ${b.npa ?? ''}</button></form>`
    : empty('Nothing for sale there.')
}
<p><a href="${PATH}">Back to numbers</a></p>`;
      return sendPage(reply, layout(ctx, 'Numbers for sale', body));
    });

    app.post('/numbers/buy', { config: write }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const f = fromForm(req.body, {
        provider_account_id: 'text',
        seller_id: 'text',
        country: 'optText',
        npa: 'text',
        count: 'int',
      });
      const b = validate(provisionBatchIn, {
        provider_account_id: f.provider_account_id,
        seller_id: f.seller_id,
        country: f.country,
        items: [{ npa: f.npa, count: f.count }],
      });
      await svc.account(b.provider_account_id);
      await svc.sellerToBuyFor(b.seller_id);
      const inputs = b.items.flatMap((i) =>
        Array.from({ length: i.count }, () => ({ npa: i.npa, country: b.country })),
      );
      const { job } = await startJob(svc, 'provision', b.provider_account_id, b.seller_id, b, inputs);
      return reply.redirect(`${PATH}/jobs/${job.id}`, 303);
    });

    app.post('/numbers/:e164/release', { config: write }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const { e164 } = validate(e164Params, req.params);
      const t = await svc.heldNumbers([e164]);
      const { job } = await startJob(svc, 'release', t.accountId, t.sellerId, { e164 }, [{ e164 }]);
      return reply.redirect(`${PATH}/jobs/${job.id}`, 303);
    });

    app.get('/numbers/jobs/:id', { config: read }, async (req, reply) => {
      if (!svc) return none(req, reply);
      const { id } = validate(idParams, req.params);
      const j = await svc.jobView(id, scopeOf(userOf(req)), true);
      const running = j.status !== 'completed';
      // While it runs the page reloads itself (a refresh header, no script): progress without polling code.
      if (running) reply.header('refresh', '2');
      // A carrier that has not enabled an API for the account (Vonage: 403 "unprovisioned") is not
      // fixed by retrying: say so plainly, with the way out.
      const unprovisioned = (j.items ?? []).some((i) => i.result?.reason === 'not_provisioned');
      const account = unprovisioned ? await svc.repo.account(j.provider_account_id) : null;
      const body = html`${
        unprovisioned
          ? html`<div class="flash error" role="alert" id="not-provisioned"><strong>The carrier has not enabled this API for provider account ${account?.name ?? j.provider_account_id}</strong> (it answered 403 "unprovisioned": its Subaccounts or Programmable SIP API is off for the account). Ask the carrier to enable it, or turn off <em>a subaccount per seller</em> on the ${may(userOf(req), ADMIN) ? html`<a href="${ACCOUNTS_PATH}/${j.provider_account_id}">account's settings</a>` : "account's settings"} and start again.</div>`
          : ''
      }${
        j.account_disabled
          ? html`<div class="flash error" role="alert" id="account-disabled"><strong>Provider account ${(await svc.repo.account(j.provider_account_id))?.name ?? j.provider_account_id} is disabled</strong>: the items not yet started wait until an admin enables it again${may(userOf(req), ADMIN) ? html` on the <a href="${ACCOUNTS_PATH}/${j.provider_account_id}">account's page</a>` : ''}.</div>`
          : ''
      }<p id="job-status" data-status="${j.status}">${j.kind} · ${j.status} · ${progress(j.done, j.total)}</p>
${Object.keys(j.counts).length ? html`<p>${Object.entries(j.counts).map(([k, v], i) => html`${i ? ' · ' : ''}${k}: ${v}`)}</p>` : ''}
<div class="scroll"><table id="job-items"><thead><tr><th>#</th><th>Asked</th><th>State</th><th>Outcome</th><th>Result</th><th>Tries</th></tr></thead><tbody>
${(j.items ?? []).map((i) => html`<tr><td>${i.idx + 1}</td><td><code>${JSON.stringify(i.input)}</code></td><td>${i.state}</td><td>${i.outcome ?? ''}</td><td><code>${i.result ? JSON.stringify(i.result) : ''}</code></td><td>${i.attempts}</td></tr>`)}
</tbody></table></div><p><a href="${PATH}">Back to numbers</a></p>`;
      return sendPage(reply, layout(ctxOf(req), `Job ${j.id.slice(0, 8)}`, body));
    });
  };
}
