// Pure caller filters: is a caller anonymous, and where is a caller's number from. The checks that
// need I/O (the blocklist in PostgreSQL, the repeat window in Redis) are effects of the call; these
// decide from the number alone.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { regionOfNpa } from '../callerid/npa-regions.ts';

/** Canadian provinces and territories among the NANP regions (the rest of the table is the US). */
const CANADA = new Set(['AB', 'BC', 'MB', 'NB', 'NL', 'NS', 'NT', 'NU', 'ON', 'PE', 'QC', 'SK', 'YT']);

/**
 * A caller with no number to call back: empty (ARI shows an absent caller id as ""), a word a
 * carrier puts there instead ("anonymous", "Restricted", "<unknown>"), or anything without at
 * least three digits.
 */
export function isAnonymous(callerNumber: string): boolean {
  const s = callerNumber.trim();
  if (!s) return true;
  if (/^<?(anonymous|restricted|private|unknown|unavailable|withheld)>?$/i.test(s)) return true;
  return (s.match(/\d/g)?.length ?? 0) < 3;
}

export interface Place {
  /** ISO 3166 country ("US", "CA", "GB"), null when the number says none. */
  country: string | null;
  /** "US-NY", "CA-ON": only NANP numbers in a known area code have one. */
  region: string | null;
}

/**
 * Where a caller's number is from. NANP numbers (10 digits, 1 + 10, +1...) are placed by area code
 * without the phone library (the hot path); other numbers by libphonenumber's country.
 */
export function placeOf(callerNumber: string): Place {
  const d = callerNumber.replace(/[\s().-]/g, '');
  const nanp = /^(?:\+?1)?([2-9]\d{2})[2-9]\d{6}$/.exec(d);
  if (nanp) {
    const st = regionOfNpa(nanp[1]!);
    if (st) {
      const country = CANADA.has(st) ? 'CA' : 'US';
      return { country, region: `${country}-${st}` };
    }
  }
  if (!/^\+?\d{7,15}$/.test(d)) return { country: null, region: null };
  const p = parsePhoneNumberFromString(d.startsWith('+') || nanp ? d : `+${d}`, 'US');
  return { country: p?.country ?? null, region: null };
}

/** A place code as campaigns list them: a country ("US") or a NANP region ("US-NY"). */
export const PLACE_CODE = /^[A-Z]{2}(-[A-Z]{2})?$/;

/**
 * True when the caller's number is from one of `allowed` (a country matches every region in it).
 * A number that cannot be placed matches nothing: an allow list refuses what it cannot check.
 */
export function placeAllowed(allowed: readonly string[], callerNumber: string): boolean {
  const p = placeOf(callerNumber);
  return allowed.some((code) => code === p.country || code === p.region);
}
