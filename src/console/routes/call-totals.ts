// Call totals: calls, answers, handle time, minutes, conversions and money per campaign, client or
// seller over a chosen period, read through the reports service (the same figures as
// /v1/reports/calls, from its rollups, in the time zone the report is asked for). A seller user sees
// its own calls only and none of the operator's revenue or margin, exactly as a seller key does.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type ReportsService, reportCsv } from '../../reports/service.ts';
import { type ReportRow, reportQuery } from '../../reports/schemas.ts';
import type { RoutingService } from '../../routing/service.ts';
import { pad2, wallClock } from '../../time/zone.ts';
import { EVERYONE, scopeOf } from '../access.ts';
import { validate } from '../forms.ts';
import { type Html, html } from '../html.ts';
import { empty, layout, pager } from '../pages/layout.ts';
import { microsText } from '../pages/routing-fields.ts';
import { sortQuery, sortRows, sortTh } from '../pages/table.ts';
import { sendPage, userOf } from '../plugin.ts';
import { ctxOf } from './users.ts';

/** The groupings this page offers (the report has more: links, DIDs, hours, days). */
const GROUPS = { campaign: 'Campaign', client: 'Client', seller: 'Seller' } as const;
type Group = keyof typeof GROUPS;

const COLS = {
  name: 'Name',
  calls: 'Calls',
  answered: 'Answered',
  answer_rate: 'Answer rate',
  aht_s: 'Avg handle (s)',
  billable_minutes: 'Billable min',
  conversions: 'Conversions',
  payout_micros: 'Payout',
  revenue_micros: 'Revenue',
  margin_micros: 'Margin',
} as const;
type Col = keyof typeof COLS;
const SORTS = Object.keys(COLS) as [Col, ...Col[]];
/** Columns a seller user does not see (the API gives a seller's key null for them). */
const OPERATOR_ONLY: ReadonlySet<Col> = new Set(['revenue_micros', 'margin_micros']);

const day = z.union([z.literal(''), z.iso.date()]).optional();
const form = z.object({
  group_by: z.enum(Object.keys(GROUPS) as [Group, ...Group[]]).catch('campaign'),
  from: day,
  to: day,
  tz: z.string().max(64).optional(),
  seller_id: z.string().optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).catch(0),
  limit: z.coerce.number().int().min(1).max(500).catch(100),
});

/** A calendar day `n` days after `d` (YYYY-MM-DD; the arithmetic is on dates, not instants). */
export function addDays(d: string, n: number): string {
  const t = Date.parse(`${d}T00:00:00Z`);
  // A day that does not exist (Date.parse rolls 02-31 over) stays as given, for the report to refuse.
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== d) return d;
  return new Date(t + n * 86_400_000).toISOString().slice(0, 10);
}

/** Today's date in `tz`. */
function today(tz: string, now: number): string {
  const w = wallClock(tz, now);
  return `${w.year}-${pad2(w.month)}-${pad2(w.day)}`;
}

export function callTotalRoutes(
  reports: ReportsService | undefined,
  routing: RoutingService,
  defaultTz: string,
) {
  /**
   * The report the form asks for. The period is whole days in the zone, `to` included (the report's
   * own `to` is the first instant left out); without dates, the last seven days up to today.
   */
  async function reportOf(svc: ReportsService, req: FastifyRequest) {
    const f = validate(form, req.query);
    const scope = scopeOf(userOf(req));
    const group: Group = scope && f.group_by === 'seller' ? 'campaign' : f.group_by;
    const { tz } = validate(reportQuery.pick({ tz: true }), { tz: f.tz?.trim() || defaultTz });
    const to = f.to || today(tz, Date.now());
    const from = f.from || addDays(to, -6);
    // The API's query schema and the report's own period checks judge the rest.
    const q = validate(reportQuery, {
      group_by: group,
      tz,
      from,
      to: addDays(to, 1),
      seller_id: scope ? undefined : f.seller_id || undefined,
    });
    return { f, scope, group, tz, from, to, r: await svc.calls(q, scope) };
  }

  return async function routes(app: FastifyInstance) {
    const cfg = { console: { roles: EVERYONE } };

    app.get('/calls/totals', { config: cfg }, async (req, reply) => {
      const ctx = ctxOf(req);
      if (!reports)
        return sendPage(
          reply,
          layout(
            ctx,
            'Call totals',
            html`${tabs('totals')}${empty('Reports are not running on this instance.')}`,
          ),
        );
      const { f, scope, group, tz, from, to, r } = await reportOf(reports, req);
      const s = sortQuery(SORTS, 'calls', 'desc').parse(req.query);
      const sellers = scope ? null : await routing.listSellers({ limit: 500, offset: 0 });
      const keep = { group_by: group, from, to, tz, seller_id: scope ? undefined : f.seller_id || undefined };
      const cols = SORTS.filter((c) => !(scope && OPERATOR_ONLY.has(c)));
      // By name first (calls of no campaign or client last), so rows equal in the chosen column
      // keep one order from page to page.
      const byName = sortRows(r.items, { sort: 'name', dir: 'asc' }, (x) => x.name);
      const rows = sortRows(byName, s, (x, k) => x[k]);
      const shown = rows.slice(f.offset, f.offset + f.limit);
      const th = (c: Col) =>
        sortTh(
          '/console/calls/totals',
          keep,
          s,
          c,
          c === 'name' ? GROUPS[group] : COLS[c],
          c === 'name' ? '' : 'num',
        );
      const opt = (v: string, label: string, cur: string | undefined) =>
        html`<option value="${v}"${cur === v ? html` selected` : ''}>${label}</option>`;
      const cells = (x: Omit<ReportRow, 'key' | 'name'>) =>
        cols.filter((c) => c !== 'name').map((c) => html`<td class="num">${figure(c, x[c])}</td>`);
      const csv = new URLSearchParams();
      for (const [k, v] of Object.entries({ ...keep, sort: s.sort, dir: s.dir }))
        if (v) csv.set(k, String(v));
      const body = html`${tabs('totals')}
<form method="get" action="/console/calls/totals" class="grid" id="totals-filters">
<label>Per <select name="group_by">${(Object.keys(GROUPS) as Group[])
        .filter((g) => !(scope && g === 'seller'))
        .map((g) => opt(g, GROUPS[g].toLowerCase(), group))}</select></label>
<label>From <input type="date" name="from" value="${from}"></label>
<label>To (included) <input type="date" name="to" value="${to}"></label>
<label>Time zone <input name="tz" value="${tz}" list="tz-list" autocomplete="off"></label>
${sellers ? html`<label>Seller <select name="seller_id"><option value="">every seller</option>${sellers.items.map((x) => opt(x.id, x.name, keep.seller_id))}</select></label>` : ''}
<input type="hidden" name="sort" value="${s.sort}"><input type="hidden" name="dir" value="${s.dir}">
<button type="submit">Show</button></form>
<datalist id="tz-list">${[...new Set([defaultTz, 'UTC', ...Intl.supportedValuesOf('timeZone')])].map((z) => html`<option value="${z}">`)}</datalist>
<p id="totals-period"><small>Calls started from ${from} 00:00 to the end of ${to}, ${tz}${
        scope ? '' : '; margin is revenue less payout, carrier cost and DID rent'
      }.</small> <a href="/console/calls/totals.csv?${csv.toString()}" download>Download CSV</a></p>
${
  r.items.length
    ? html`<div class="scroll"><table id="totals" class="totals"><thead><tr>${cols.map(th)}</tr></thead>
<tbody>${shown.map((x) => html`<tr data-key="${x.key ?? ''}"><td>${x.name ?? x.key ?? html`<em>no ${GROUPS[group].toLowerCase()}</em>`}</td>${cells(x)}</tr>`)}</tbody>
<tfoot><tr><th scope="row">All ${r.items.length}</th>${cells(r.totals)}</tr></tfoot></table></div>
${pager('/console/calls/totals', { ...keep, sort: s.sort, dir: s.dir }, { limit: f.limit, offset: f.offset, total: rows.length })}`
    : empty('No calls in this period.')
}`;
      return sendPage(reply, layout(ctx, 'Call totals', body));
    });

    if (!reports) return;
    const svc = reports;
    app.get('/calls/totals.csv', { config: cfg }, async (req, reply) => {
      const { group, r } = await reportOf(svc, req);
      return reply
        .type('text/csv; charset=utf-8')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="calls-by-${group}.csv"`)
        .send(reportCsv(r));
    });
  };
}

/** The links between the call records and their totals, on both pages. */
export function tabs(cur: 'records' | 'totals'): Html {
  const a = (k: typeof cur, href: string, label: string) =>
    html`<a href="${href}"${cur === k ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="tabs" aria-label="calls">${a('records', '/console/calls', 'Call records')}${a('totals', '/console/calls/totals', 'Totals')}</nav>`;
}

function figure(c: Col, v: unknown): string {
  if (v === null || v === undefined) return '–';
  if (c === 'answer_rate') return `${(Number(v) * 100).toFixed(1)} %`;
  if (c.endsWith('_micros')) return microsText(Number(v));
  return Number(v).toLocaleString('en');
}
