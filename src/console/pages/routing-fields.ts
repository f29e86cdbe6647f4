// Form fields of the routing pages that more than one page has, each turned back into the API's body
// shape so the API's zod schema decides (the console adds no rule of its own): the five caps,
// concurrency per hour of the week, a campaign's default route, and amounts of money.
import { type Html, html } from '../html.ts';

const capText = (n: number | null | undefined) => (n === null || n === undefined ? '' : String(n));
const selected = (b: boolean) => (b ? html` selected` : '');

export interface CapRow {
  concurrencyCap: number | null;
  hourlyCap: number | null;
  dailyCap: number | null;
  monthlyCap: number | null;
  totalCap: number | null;
}

/** The five caps' form kinds (an empty field removes the cap, as null does in the API). */
export const CAP_SPEC = {
  concurrency_cap: 'intOrNull',
  hourly_cap: 'intOrNull',
  daily_cap: 'intOrNull',
  monthly_cap: 'intOrNull',
  total_cap: 'intOrNull',
} as const;

/** Labelled inputs for the five caps (for a grid form). */
export function capInputs(r: CapRow | null, dis: Html | string = ''): Html {
  const f = (name: string, label: string, v: number | null | undefined) =>
    html`<label>${label} <input name="${name}" type="number" min="0" max="1000000" value="${capText(v)}" placeholder="none"${dis}></label>`;
  return html`${f('concurrency_cap', 'Live (concurrent) cap', r?.concurrencyCap)}${f('hourly_cap', 'Hourly cap', r?.hourlyCap)}${f('daily_cap', 'Daily cap', r?.dailyCap)}${f('monthly_cap', 'Monthly cap', r?.monthlyCap)}${f('total_cap', 'Total cap', r?.totalCap)}`;
}

/** "live · hour · day · month · total" of a row's caps, `–` for none. */
export const capsSummary = (r: CapRow) =>
  [r.concurrencyCap, r.hourlyCap, r.dailyCap, r.monthlyCap, r.totalCap].map((n) => n ?? '–').join(' · ');

// ---------------------------------------------------------------- concurrency by hour of the week

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
type HourlyConcurrency = Partial<Record<string, Array<number | null>>>;

/**
 * A grid of 7 × 24 inputs (`cs_<day>_<hour>`), one per hour of the week in the client's zone; an empty
 * cell falls back to the link's live cap.
 */
export function concurrencyGrid(s: HourlyConcurrency | null, dis: Html | string = ''): Html {
  const hours = Array.from({ length: 24 }, (_, h) => h);
  return html`<div class="scroll"><table class="hour-grid" id="concurrency-grid"><thead><tr><th></th>${hours.map((h) => html`<th>${String(h).padStart(2, '0')}</th>`)}</tr></thead><tbody>
${DAYS.map(
  (day, d) =>
    html`<tr><th>${day}</th>${hours.map(
      (h) =>
        html`<td><input name="cs_${d}_${h}" type="number" min="0" max="1000000" value="${capText(s?.[String(d)]?.[h])}" aria-label="${day} ${h}:00"${dis}></td>`,
    )}</tr>`,
)}</tbody></table></div>`;
}

/**
 * The grid's cells as the API's `concurrency_schedule`: a weekday with no cell filled is left out, no
 * cell filled at all is null (no schedule). A cell that is not a whole number is passed on as text,
 * for the schema to refuse.
 */
export function concurrencyFromForm(body: unknown): HourlyConcurrency | null {
  const f = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, Array<number | string | null>> = {};
  for (let d = 0; d < 7; d++) {
    const day = Array.from({ length: 24 }, (_, h) => {
      const raw = f[`cs_${d}_${h}`];
      const v = typeof raw === 'string' ? raw.trim() : '';
      return v === '' ? null : /^-?\d+$/.test(v) ? Number(v) : v;
    });
    if (day.some((v) => v !== null)) out[String(d)] = day;
  }
  return Object.keys(out).length ? (out as HourlyConcurrency) : null;
}

// ---------------------------------------------------------------- a campaign's default route

type DefaultRoute =
  | { kind: 'campaign'; campaign_id: string }
  | { kind: 'context'; context: string; extension?: string | undefined; priority?: number | undefined }
  | { kind: 'message'; media: string[] };

/** The default route's fields: a kind, then what that kind needs (the others are ignored). */
export function defaultRouteInputs(
  r: DefaultRoute | null,
  campaigns: Array<{ id: string; name: string }>,
  dis: Html | string = '',
): Html {
  const kind = r?.kind ?? '';
  return html`<fieldset class="default-route"><legend>Default route: where a call goes when every link is capped, closed or off</legend>
<label>Send to <select name="dr_kind"${dis}><option value=""${selected(!kind)}>nowhere (the call is not routed)</option><option value="campaign"${selected(kind === 'campaign')}>another campaign of this seller</option><option value="context"${selected(kind === 'context')}>a dialplan context</option><option value="message"${selected(kind === 'message')}>a recorded message, then hang up</option></select></label>
<label>Campaign <select name="dr_campaign_id"${dis}><option value="">—</option>${campaigns.map((c) => html`<option value="${c.id}"${selected(r?.kind === 'campaign' && r.campaign_id === c.id)}>${c.name}</option>`)}</select></label>
<label>Context <input name="dr_context" value="${r?.kind === 'context' ? r.context : ''}" placeholder="overflow"${dis}></label>
<label>Extension (empty: s) <input name="dr_extension" value="${r?.kind === 'context' ? (r.extension ?? '') : ''}"${dis}></label>
<label>Priority (empty: 1) <input name="dr_priority" type="number" min="1" max="10000" value="${r?.kind === 'context' ? capText(r.priority) : ''}"${dis}></label>
<label>Message (sound:name or recording:name, in order) <input name="dr_media" value="${r?.kind === 'message' ? r.media.join(', ') : ''}" placeholder="sound:all-circuits-busy-now"${dis}></label>
</fieldset>`;
}

/** The fields as the API's `default_route` (null for none); what the kind does not use is left out. */
export function defaultRouteFromForm(body: unknown): unknown {
  const f = (body ?? {}) as Record<string, unknown>;
  const s = (k: string) => (typeof f[k] === 'string' ? (f[k] as string).trim() : '');
  switch (s('dr_kind')) {
    case '':
      return null;
    case 'campaign':
      return { kind: 'campaign', campaign_id: s('dr_campaign_id') };
    case 'context': {
      const p = s('dr_priority');
      return {
        kind: 'context',
        context: s('dr_context'),
        ...(s('dr_extension') ? { extension: s('dr_extension') } : {}),
        ...(p ? { priority: /^\d+$/.test(p) ? Number(p) : p } : {}),
      };
    }
    case 'message':
      return {
        kind: 'message',
        media: s('dr_media')
          .split(/[\s,]+/)
          .filter(Boolean),
      };
    default:
      return { kind: s('dr_kind') };
  }
}

// ---------------------------------------------------------------- money

/** Micro-units as a decimal amount ("25", "0.015"): exact, never through a float. */
export function microsText(m: number): string {
  const neg = m < 0;
  const s = String(Math.abs(m)).padStart(7, '0');
  const whole = s.slice(0, -6).replace(/^0+(?=\d)/, '');
  const frac = s.slice(-6).replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/**
 * A decimal amount typed in a form ("25", "0.015", "1,000.50") as micro-units, exact; anything else
 * (more than 6 decimals, letters) is passed on as text for the API's schema to refuse.
 */
export function microsFromText(raw: string): number | string {
  const v = raw.trim().replace(/,/g, '');
  const m = /^(\d{1,7})(?:\.(\d{1,6}))?$/.exec(v);
  if (!m) return raw.trim();
  return Number(m[1]) * 1_000_000 + Number((m[2] ?? '').padEnd(6, '0'));
}

/** The named amount fields of a form as micro-units under the API's names (absent/empty: not given). */
export function moneyFromForm(body: unknown, fields: Record<string, string>): Record<string, unknown> {
  const f = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [form, api] of Object.entries(fields)) {
    const raw = f[form];
    if (typeof raw === 'string' && raw.trim()) out[api] = microsFromText(raw);
  }
  return out;
}
