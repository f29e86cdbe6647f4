// Wall-clock time in an IANA zone, for everything counted "per hour/day/month" on someone's own clock
// (routing caps in the client's zone, caller-ID limits in the operator's). Building an
// Intl.DateTimeFormat costs far more than formatting with one (it loads zone data) and the hot paths
// ask on every call, so there is one formatter per zone for the process's life (zones are validated
// IANA names, so the map stays small).
const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * The one test of a zone name, used wherever one comes in (the API, the console, the configuration):
 * an IANA name this runtime knows (`UTC`, `Asia/Kolkata`, `America/Argentina/Buenos_Aires`), at most
 * 64 characters. Offset spellings (`+05:30`) are refused even where Intl takes them (newer runtimes
 * do): PostgreSQL reads those as POSIX zones, with the sign inverted.
 */
export function isIanaZone(t: string): boolean {
  if (t.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(t)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: t });
    return true;
  } catch {
    return false;
  }
}

function formatterFor(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

export interface WallClock {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number; // 0-23
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall clock in `tz` at `at`. */
export function wallClock(tz: string, at: number | Date): WallClock {
  const w: WallClock = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatterFor(tz).formatToParts(at)) {
    if (p.type === 'weekday') w.weekday = WEEKDAYS[p.value] ?? 0;
    else if (p.type !== 'literal' && p.type in w) w[p.type as keyof WallClock] = Number(p.value);
  }
  return w;
}

export const pad2 = (n: number) => String(n).padStart(2, '0');

/** The zone's offset from UTC at `t` (ms since the epoch), in ms: wall clock minus UTC. */
export function offsetAt(tz: string, t: number, w: WallClock = wallClock(tz, t)): number {
  return (
    Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - (t - (((t % 1000) + 1000) % 1000))
  );
}

// Offset at the start of each local day asked about, per zone: routing asks on every call. A few
// entries a day; emptied now and then so a long-running daemon does not keep every day it saw.
const dayStartOffsets = new Map<string, number>();

function dayStartOffset(tz: string, w: WallClock, offsetNow: number): number {
  const key = `${tz} ${w.year} ${w.month} ${w.day}`;
  let o = dayStartOffsets.get(key);
  if (o === undefined) {
    const midnight = Date.UTC(w.year, w.month - 1, w.day, 0, 0, 0);
    o = offsetAt(tz, midnight - offsetAt(tz, midnight - offsetNow));
    if (dayStartOffsets.size > 1000) dayStartOffsets.clear();
    dayStartOffsets.set(key, o);
  }
  return o;
}

/**
 * The id of the local hour that `t` falls in, for per-hour counters: `YYYYMMDDHH` on the zone's
 * clock. Where clocks go back, one label comes twice (01:00-02:00 PDT, then PST); the hours after
 * the day's offset went back carry the change in minutes (`2027110701-60`), so the second 01 counts
 * afresh. Every other hour keeps the plain label (ids already stored stay valid).
 */
export function hourId(tz: string, t: number, w: WallClock = wallClock(tz, t)): string {
  const label = `${w.year}${pad2(w.month)}${pad2(w.day)}${pad2(w.hour)}`;
  const now = offsetAt(tz, t, w);
  const shift = (now - dayStartOffset(tz, w, now)) / 60_000;
  return shift < 0 ? `${label}${shift}` : label;
}
