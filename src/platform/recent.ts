// A bounded memory of recent ids, in two generations: new ids go into the young one, and once it
// holds `window` ids the old generation is dropped whole and the young one takes its place.
//
// Why not one Map trimmed oldest-first: deleting a Map's first entry leaves a hole at the front of
// V8's hash table, and finding the next oldest (`keys().next()`) walks every hole left since the
// table was last rebuilt, which at 10,000 entries is thousands of slots on every insert. Swapping
// generations costs nothing per insert and frees the old one at once.

export class RecentIds<V = true> {
  private young = new Map<string, V>();
  private old = new Map<string, V>();

  /** Every id among the last `window` added is remembered; never more than `2 * window` are held. */
  constructor(readonly window: number) {
    if (!(Number.isInteger(window) && window >= 1))
      throw new Error(`window must be a positive integer, got ${window}`);
  }

  add(id: string, value: V): void {
    this.young.set(id, value);
    if (this.young.size >= this.window) {
      this.old = this.young;
      this.young = new Map();
    }
  }

  has(id: string): boolean {
    return this.young.has(id) || this.old.has(id);
  }

  /** The value the id was last added with, if it is still remembered. */
  get(id: string): V | undefined {
    const v = this.young.get(id);
    return v !== undefined || this.young.has(id) ? v : this.old.get(id);
  }

  /** Entries held (an id added again after its generation aged may count twice). */
  get size(): number {
    return this.young.size + this.old.size;
  }
}
