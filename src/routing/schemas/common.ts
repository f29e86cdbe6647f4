// What several routing resources' shapes share: the five caps (bodies, answers, column values), the
// owning seller, phone numbers in E.164, amounts in micro-units, `?cascade`.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { z } from 'zod';
import { queryBool } from '../../platform/http/input.ts';

/** `?cascade=true` on a DELETE: also detach or remove what refers to the row. */
export const cascadeQuery = z.object({ cascade: queryBool.default(false) });

// ---------------------------------------------------------------- caps (links, sellers, DIDs, groups)

const capField = z.number().int().min(0).max(1_000_000).nullable().optional();
/** The five cap kinds, each optional in a body (null removes the cap). */
export const capFields = {
  concurrency_cap: capField,
  hourly_cap: capField,
  daily_cap: capField,
  monthly_cap: capField,
  total_cap: capField,
};
export type CapBody = { [K in keyof typeof capFields]?: number | null | undefined };
const capOut = z.number().nullable();
export const capsOut = {
  concurrency_cap: capOut,
  hourly_cap: capOut,
  daily_cap: capOut,
  monthly_cap: capOut,
  total_cap: capOut,
};
type CapColumns = {
  concurrencyCap: number | null;
  hourlyCap: number | null;
  dailyCap: number | null;
  monthlyCap: number | null;
  totalCap: number | null;
};
export const toCaps = (r: CapColumns) => ({
  concurrency_cap: r.concurrencyCap,
  hourly_cap: r.hourlyCap,
  daily_cap: r.dailyCap,
  monthly_cap: r.monthlyCap,
  total_cap: r.totalCap,
});
/** A body's caps as column values (absent stays absent: a PATCH leaves it alone). */
export const capValues = (b: CapBody) => ({
  concurrencyCap: b.concurrency_cap,
  hourlyCap: b.hourly_cap,
  dailyCap: b.daily_cap,
  monthlyCap: b.monthly_cap,
  totalCap: b.total_cap,
});
export const hasCapFields = (b: CapBody) => Object.values(capValues(b)).some((v) => v !== undefined);

// Optional in the schema because a seller key's rows belong to its own seller; a staff or admin key
// must name one (400 VALIDATION_FAILED without it), as the documents say.
export const ownerSeller = z.uuid().optional().meta({
  description:
    "The seller that owns the row. Required with a staff or admin key (400 VALIDATION_FAILED without it); with a seller key, leave it out or give the key's own seller.",
});

/** E.164 form of a number written by an operator ("+1 (415) 555-0100", "14155550100"); null if invalid. */
export function toE164(raw: string, defaultCountry: 'US' = 'US'): string | null {
  const s = raw.trim();
  const p = parsePhoneNumberFromString(/^\d{11,15}$/.test(s) ? `+${s}` : s, defaultCountry);
  return p?.isValid() ? p.number : null;
}
export const e164 = z.string().transform((s, ctx) => {
  const n = toE164(s);
  if (!n) ctx.addIssue({ code: 'custom', message: `"${s}" is not a valid phone number` });
  return n ?? s;
});

/** An amount in micro-units (millionths of the currency unit), never a float. */
export const micros = z.number().int().min(0).max(1_000_000_000_000);
