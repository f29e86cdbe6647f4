// Which rollup rows a report reads (pure). Rollups hold calls per UTC quarter-hour, hour and day
// (src/db/schema/reports.ts). A report's period, and the local hours or days it is grouped by, are
// cut into pieces that never straddle a local boundary, and each piece is read at the coarsest grain
// that fits inside it: whole UTC days, then whole hours, then quarter-hours at the edges. Every IANA
// zone's offset (Asia/Kolkata +05:30, Asia/Kathmandu +05:45, Australia/Eucla +08:45, DST included) is
// a whole number of quarter-hours, so a local hour or day is always an exact union of buckets.
import { offsetAt, pad2, wallClock } from '../time/zone.ts';

export type Grain = 'q' | 'h' | 'd';
/** Rollup rows of one grain with bucket in [from, to) (epoch ms). */
export interface Range {
  grain: Grain;
  from: number;
  to: number;
}

export const QUARTER = 15 * 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const mod = (a: number, m: number) => ((a % m) + m) % m;
const floorTo = (t: number, u: number) => t - mod(t, u);
const ceilTo = (t: number, u: number) => (mod(t, u) === 0 ? t : t - mod(t, u) + u);

/** The instant of a wall-clock time in `tz` (a time skipped by DST moves forward by the gap). */
export function localInstant(tz: string, y: number, mo: number, d: number, h = 0, mi = 0): number {
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let t = wall - offsetAt(tz, wall);
  // Twice: the offset at the first guess may be the other side of a transition.
  t = wall - offsetAt(tz, t);
  const w = wallClock(tz, t);
  const got = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  // In a DST gap the wall time does not exist; the instant found shows a later wall time. Earlier
  // than asked can only be the other reading of the same offsets: take the later instant.
  return got < wall ? t + (wall - got) : t;
}

/**
 * The zone's offset over [from, to) as pieces of constant offset. Sampled once a day (no zone
 * changes its offset twice within a day), each change found to the quarter-hour by bisection:
 * a year costs a few hundred offset look-ups, not one per hour (each is a formatter call).
 */
export function offsetPieces(tz: string, from: number, to: number): Array<{ from: number; off: number }> {
  const out = [{ from, off: offsetAt(tz, from) }];
  for (let a = from; a < to; ) {
    const b = Math.min(a + DAY, to);
    const offA = out[out.length - 1]!.off;
    const offB = offsetAt(tz, b);
    if (offB !== offA && b > a) {
      // The first quarter-hour in (a, b] already at the new offset.
      let lo = a; // at offA
      let hi = b; // at offB
      while (hi - lo > QUARTER) {
        const mid = lo + Math.floor((hi - lo) / QUARTER / 2) * QUARTER;
        if (offsetAt(tz, mid) === offA) lo = mid;
        else hi = mid;
      }
      if (hi < to) out.push({ from: hi, off: offsetAt(tz, hi) });
    }
    a = b;
  }
  return out;
}

/**
 * The local hour or day boundaries strictly inside (from, to), in order: the instants whose wall
 * clock reads a whole hour (midnight). Where a change of offset skips midnight (a zone that springs
 * forward at 00:00), the change itself is where the new day begins.
 */
export function localBoundaries(tz: string, from: number, to: number, unit: 'hour' | 'day'): number[] {
  const u = unit === 'hour' ? HOUR : DAY;
  const pieces = offsetPieces(tz, from, to);
  const out: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    const { from: start, off } = pieces[i]!;
    const end = pieces[i + 1]?.from ?? to;
    if (i > 0 && mod(start + off, u) !== 0 && mod(start + pieces[i - 1]!.off, u) === 0 && start > from)
      out.push(start);
    for (let b = start + mod(-(start + off), u); b < end; b += u) if (b > from) out.push(b);
  }
  return out;
}

/** One piece [a, b) (quarter-aligned) as ranges: quarter-hours, hours and days, coarsest inside. */
function pieceRanges(a: number, b: number): Range[] {
  const ha = ceilTo(a, HOUR);
  const hb = floorTo(b, HOUR);
  if (ha >= hb) return [{ grain: 'q', from: a, to: b }];
  const out: Range[] = [{ grain: 'q', from: a, to: ha }];
  const da = ceilTo(ha, DAY);
  const db = floorTo(hb, DAY);
  if (da >= db) out.push({ grain: 'h', from: ha, to: hb });
  else
    out.push(
      { grain: 'h', from: ha, to: da },
      { grain: 'd', from: da, to: db },
      { grain: 'h', from: db, to: hb },
    );
  out.push({ grain: 'q', from: hb, to: b });
  return out.filter((r) => r.from < r.to);
}

/**
 * The ranges to read for [from, to) cut at `cuts` (local boundaries): disjoint, covering the period
 * exactly, none straddling a cut; ranges of one grain that touch are merged.
 */
export function readRanges(from: number, to: number, cuts: readonly number[]): Range[] {
  const edges = [from, ...cuts.filter((c) => c > from && c < to), to];
  const out: Range[] = [];
  const last: Partial<Record<Grain, Range>> = {};
  for (let i = 0; i + 1 < edges.length; i++)
    for (const r of pieceRanges(edges[i]!, edges[i + 1]!)) {
      const prev = last[r.grain];
      if (prev && prev.to === r.from) prev.to = r.to;
      else {
        const copy = { ...r };
        out.push(copy);
        last[r.grain] = copy;
      }
    }
  return out;
}

export const isQuarterAligned = (t: number) => mod(t, QUARTER) === 0;

/** A range to read, with the label of the local hour or day it belongs to (null: not grouped by time). */
export interface ReadRange extends Range {
  label: string | null;
}

/**
 * Calls of one DID (per seller and campaign) to count for the rent spread, as a difference of two
 * running counts in one row: `kind` 'd' reads `report_did_days` of the UTC day `at` (quarter-hours
 * [lo, hi) of it, 0-96); 'm' reads `report_did_month_days` of the UTC month `at` (its days [lo, hi),
 * 0-31). `month` is the UTC month the calls fall in (whose share of the rent they carry).
 */
export interface RentTerm {
  kind: 'd' | 'm';
  at: string;
  month: string;
  lo: number;
  hi: number;
  label: string | null;
}

const isoDay = (t: number) => new Date(t).toISOString().slice(0, 10);

/** The local hour (`YYYY-MM-DDTHH:00`) or day (`YYYY-MM-DD`) an instant falls in. */
export function localLabel(tz: string, t: number, unit: 'hour' | 'day'): string {
  const w = wallClock(tz, t);
  const d = `${w.year}-${pad2(w.month)}-${pad2(w.day)}`;
  return unit === 'day' ? d : `${d}T${pad2(w.hour)}:00`;
}

/**
 * What a report over [from, to) reads: rollup ranges (coarsest grain inside each local hour or day
 * when grouped by one, labelled with it), and the same period as running-count terms for the rent.
 * Labels come from here rather than from a per-row conversion in SQL: a segment between two local
 * boundaries has one local hour or day throughout.
 */
export function readPlan(
  tz: string,
  from: number,
  to: number,
  unit: 'hour' | 'day' | null,
): { ranges: ReadRange[]; rent: RentTerm[] } {
  if (unit === null)
    return {
      ranges: readRanges(from, to, []).map((r) => ({ ...r, label: null })),
      rent: rentTerms(from, to, null),
    };
  const edges = [from, ...localBoundaries(tz, from, to, unit), to];
  const ranges: ReadRange[] = [];
  const rent: RentTerm[] = [];
  for (let i = 0; i + 1 < edges.length; i++) {
    const label = localLabel(tz, edges[i]!, unit);
    for (const r of pieceRanges(edges[i]!, edges[i + 1]!)) ranges.push({ ...r, label });
    rent.push(...rentTerms(edges[i]!, edges[i + 1]!, label));
  }
  return { ranges, rent };
}

const monthStart = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
};
const nextMonth = (t: number) => {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
};

/**
 * [a, b) as rent terms: cut at UTC month starts (each month has its own share); in each month the
 * whole days in one term of the month's row, and only a part-day at either end from that day's row.
 * A period of whole UTC days thus reads one row per DID and month, whatever its length.
 */
export function rentTerms(a: number, b: number, label: string | null): RentTerm[] {
  const out: RentTerm[] = [];
  for (let s = a; s < b; ) {
    const m0 = monthStart(s);
    const e = Math.min(b, nextMonth(s));
    const month = isoDay(m0);
    const ds = floorTo(s, DAY);
    const de = floorTo(e, DAY);
    const day = (t: number, lo: number, hi: number): RentTerm => ({
      kind: 'd',
      at: isoDay(t),
      month,
      lo,
      hi,
      label,
    });
    if (ds === de) out.push(day(ds, (s - ds) / QUARTER, (e - ds) / QUARTER));
    else {
      const w0 = s > ds ? ds + DAY : s;
      if (s > ds) out.push(day(ds, (s - ds) / QUARTER, 96));
      if (w0 < de) out.push({ kind: 'm', at: month, month, lo: (w0 - m0) / DAY, hi: (de - m0) / DAY, label });
      if (e > de) out.push(day(de, 0, (e - de) / QUARTER));
    }
    s = e;
  }
  return out;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/;

/**
 * A period bound: a local date `YYYY-MM-DD` (its midnight in `tz`), a local time `YYYY-MM-DDTHH:MM`
 * in `tz`, or an instant with a zone (`...Z`, `...+05:30`). Null when it is none of these.
 */
export function parseBound(s: string, tz: string): number | null {
  const d = DATE_RE.exec(s) ?? LOCAL_RE.exec(s);
  if (d) {
    const [y, mo, day, h, mi] = [d[1], d[2], d[3], d[4] ?? '0', d[5] ?? '0'].map(Number) as number[];
    if (mo! < 1 || mo! > 12 || day! < 1 || day! > 31 || h! > 23 || mi! > 59) return null;
    // A day that does not exist (2026-02-30) is refused rather than rolled over.
    const probe = new Date(Date.UTC(y!, mo! - 1, day!));
    if (probe.getUTCMonth() !== mo! - 1) return null;
    return localInstant(tz, y!, mo!, day!, h, mi);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(s)) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}
