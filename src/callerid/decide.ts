// Pure decisions of caller-ID rotation: time buckets for limits, number normalisation and the
// local-presence facts of a number. No I/O; property-tested.
import { parsePhoneNumberFromString } from 'libphonenumber-js/min';
import { hourId, offsetAt, wallClock } from '../time/zone.ts';
import { regionOfNpa } from './npa-regions.ts';

export interface CidBuckets {
  /** Local hour id (YYYYMMDDHH in the zone) and the ms its hour ends. */
  hour: string;
  hourEnd: number;
  hourStart: number;
  /** Local day id (YYYYMMDD) and the ms its day ends (next local midnight). */
  day: string;
  dayEnd: number;
}

interface Wall {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}
function wall(t: number, tz: string): Wall {
  const w = wallClock(tz, t);
  return { y: w.year, mo: w.month, d: w.day, h: w.hour, mi: w.minute, s: w.second };
}
const pad = (n: number, l = 2) => String(n).padStart(l, '0');

/**
 * The hour and day buckets that hourly/daily limits count in, in the operator's time zone, and
 * when each ends. Computed from an injected clock, passed to the Redis scripts as ARGV.
 */
export function cidBuckets(now: number, tz: string): CidBuckets {
  const w = wall(now, tz);
  const ms = ((now % 1000) + 1000) % 1000;
  const hourStart = now - ms - w.s * 1000 - w.mi * 60_000;
  // Next local midnight: the wall-clock midnight converted with the offset in force then.
  const midnightWall = Date.UTC(w.y, w.mo - 1, w.d + 1, 0, 0, 0);
  let dayEnd = midnightWall - offsetAt(tz, now);
  dayEnd = midnightWall - offsetAt(tz, dayEnd);
  if (dayEnd <= now) dayEnd = now + 1;
  const day = `${w.y}${pad(w.mo)}${pad(w.d)}`;
  return {
    hour: hourId(tz, now),
    hourStart,
    hourEnd: Math.min(hourStart + 3_600_000, dayEnd),
    day,
    dayEnd,
  };
}

/** Cache of the current buckets: recomputed only when the hour turns (the hot path calls it per pick). */
export class BucketClock {
  private cur: CidBuckets | null = null;
  constructor(private tz: string) {}
  at(t: number): CidBuckets {
    const c = this.cur;
    if (c && t >= c.hourStart && t < c.hourEnd) return c;
    this.cur = cidBuckets(t, this.tz);
    return this.cur;
  }
}

export interface NumberFacts {
  number: string;
  npa: string | null;
  nxx: string | null;
  state: string | null;
}

/** E.164 of an operator's caller ID (any common spelling; bare 10 digits are NANP), or null when invalid. */
export function normaliseNumber(raw: string): string | null {
  const s = raw.trim();
  if (!s) return null;
  const digits = s.replace(/[\s().-]/g, '');
  if (!/^\+?\d{7,15}$/.test(digits)) return null;
  // Fast path (bulk imports): a NANP number in an area code of our table, with a valid exchange
  // code, is valid; anything else asks the phone-number library.
  const nanp = /^(?:\+?1)?([2-9]\d{2})([2-9]\d{2})(\d{4})$/.exec(digits);
  if (nanp && regionOfNpa(nanp[1]!) && !/^[2-9]11$/.test(nanp[2]!)) return `+1${nanp[1]}${nanp[2]}${nanp[3]}`;
  const p = parsePhoneNumberFromString(digits.startsWith('+') ? digits : digits, 'US');
  if (!p?.isValid()) return null;
  return p.number;
}

/** NPA, NPA-NXX and state of an E.164 number (only NANP numbers have them). */
export function factsOf(e164: string): NumberFacts {
  const m = /^\+1(\d{3})(\d{3})\d{4}$/.exec(e164);
  if (!m) return { number: e164, npa: null, nxx: null, state: null };
  return { number: e164, npa: m[1]!, nxx: m[1]! + m[2]!, state: regionOfNpa(m[1]!) };
}

/**
 * Local-presence facts of a callee as a dialer sends it (10 digits, 1+10, +1..., with or without
 * punctuation). Cheap: no phone library on the hot path. Null for anything that is not a number.
 */
export function calleeFacts(to: string | undefined): NumberFacts | null {
  if (to === undefined || to === '') return null;
  const d = to.replace(/[\s().-]/g, '');
  if (!/^\+?\d{4,15}$/.test(d)) return null;
  const digits = d.replace('+', '');
  const nanp =
    digits.length === 10 ? digits : digits.length === 11 && digits[0] === '1' ? digits.slice(1) : null;
  if (!nanp) return { number: `+${digits}`, npa: null, nxx: null, state: null };
  return factsOf(`+1${nanp}`);
}
