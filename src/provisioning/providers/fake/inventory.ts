// The fake carrier's deterministic number inventory: the same NPA always offers the same numbers, so a
// test or the demo can say in advance which numbers a search will answer.

/** The numbers the fake offers in a US NPA: `1 NPA XXX NNNN`, `size` of them, in a fixed order. */
export function npaInventory(npa: string, size: number): string[] {
  if (!/^[2-9]\d\d$/.test(npa)) return [];
  // An exchange that is a valid NXX ([2-9]XX) and differs between NPAs.
  const exchange = 200 + ((Number(npa) * 37) % 700);
  const out: string[] = [];
  for (let i = 0; i < size; i++) out.push(`1${npa}${exchange}${String(1000 + i).padStart(4, '0')}`);
  return out;
}

/** The NPA of a US msisdn (`1NPA...`), or null. */
export const npaOf = (msisdn: string): string | null => /^1([2-9]\d\d)\d{7}$/.exec(msisdn)?.[1] ?? null;

/** Vonage's search_pattern: 0 starts with, 1 contains, 2 ends with. */
export function matches(msisdn: string, pattern: string | undefined, searchPattern: number): boolean {
  if (!pattern) return true;
  if (searchPattern === 0) return msisdn.startsWith(pattern);
  if (searchPattern === 2) return msisdn.endsWith(pattern);
  return msisdn.includes(pattern);
}

/** A small seeded PRNG (mulberry32) so fault rates repeat run after run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
