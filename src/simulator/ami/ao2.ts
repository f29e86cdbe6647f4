// The iteration order of Asterisk's ao2 hash containers, which decides the order of list actions'
// events (queues, queue members, hints): bucket by bucket, each bucket in insertion order.

/** ast_str_case_hash: djb2 over the lower-cased bytes, restricted to a positive int. */
export const caseHash = (s: string): number => strHash(s.toLowerCase());

/** ast_str_hash: djb2 over the bytes, restricted to a positive int. */
export const strHash = (s: string): number => {
  let h = 5381;
  for (const b of Buffer.from(s)) h = (Math.imul(h, 33) ^ b) >>> 0;
  return h & 0x7fffffff;
};

/** Items in the order a container of `buckets` buckets hashing them with `hash` iterates them. */
export const hashOrder = <T>(items: T[], hash: (t: T) => number, buckets: number): T[] =>
  items
    .map((t, i) => ({ t, i, b: Math.abs(hash(t) % buckets) }))
    .sort((x, y) => x.b - y.b || x.i - y.i)
    .map((x) => x.t);
