// Extension allocation: a pure decision over the extensions in use. The database's unique index
// on pbx_users.extension is what makes it safe under concurrency; a creation that loses the race
// asks again with the winner's extension now in `used`.

/** The lowest extension in [min, max] not in `used`, or null when the range is full. */
export function lowestFreeExtension(used: Iterable<number>, min: number, max: number): number | null {
  if (!Number.isInteger(min) || !Number.isInteger(max) || min > max) return null;
  const taken = new Set<number>();
  for (const u of used) if (u >= min && u <= max) taken.add(u);
  for (let e = min; e <= max; e++) if (!taken.has(e)) return e;
  return null;
}
