// Sorting of server-paged lists: the query's `sort` and `dir` (an unknown value falls back to the
// list's default rather than failing the page), and column headers that link to the other order.
import { z } from 'zod';
import { type Html, html } from '../html.ts';

export type Dir = 'asc' | 'desc';
export interface Sorted<K extends string> {
  sort: K;
  dir: Dir;
}

/** The keys of a repository's allow-listed order columns (`*_SORTS`), for `sortQuery`. */
export const sortKeys = <K extends string>(cols: Record<K, unknown>) => Object.keys(cols) as [K, ...K[]];

/** `sort` among the list's keys and `dir`, each falling back to the default when absent or unknown. */
export function sortQuery<K extends string>(keys: readonly [K, ...K[]], sort: K, dir: Dir) {
  return z.object({
    sort: z.enum(keys).catch(sort),
    dir: z.enum(['asc', 'desc']).catch(dir),
  });
}

/**
 * A sortable column header: a link to this column's order (the other direction when it is the
 * current one), keeping the list's filters and going back to the first page.
 */
export function sortTh<K extends string>(
  path: string,
  filters: Record<string, string | number | undefined>,
  cur: Sorted<K>,
  key: K,
  label: string,
  cls = '',
  /** The query names of this table's order, when a page has two sortable tables. */
  names: { sort: string; dir: string } = { sort: 'sort', dir: 'dir' },
): Html {
  const active = cur.sort === key;
  const dir: Dir = active ? (cur.dir === 'asc' ? 'desc' : 'asc') : 'asc';
  const sp = new URLSearchParams();
  for (const [k, v] of Object.entries({ ...filters, [names.sort]: key, [names.dir]: dir }))
    if (v !== undefined && String(v) !== '') sp.set(k, String(v));
  const aria = active ? (cur.dir === 'asc' ? 'ascending' : 'descending') : 'none';
  // A no-break space: a header that wraps keeps the mark on its last word.
  const mark = active ? (cur.dir === 'asc' ? '\u00a0▲' : '\u00a0▼') : '';
  return html`<th aria-sort="${aria}"${cls ? html` class="${cls}"` : ''}><a href="${path}?${sp.toString()}" class="sort">${label}${mark}</a></th>`;
}

/** A filter's choice as a form sends it: an empty choice is none. */
export const choice = <T extends z.ZodType>(t: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), t.optional());
/** A yes/no filter (active, paused): anything else is no filter, as the query's text is not trusted. */
export const boolChoice = choice(z.enum(['true', 'false'])).catch(undefined);

/** Sorts rows already in memory (short lists read whole) by one key, nulls last. */
export function sortRows<T, K extends string>(
  rows: T[],
  cur: Sorted<K>,
  keyOf: (r: T, k: K) => unknown,
): T[] {
  const sign = cur.dir === 'asc' ? 1 : -1;
  return [...rows].sort((a, b) => {
    const x = keyOf(a, cur.sort);
    const y = keyOf(b, cur.sort);
    if (x === y) return 0;
    if (x === null || x === undefined) return 1;
    if (y === null || y === undefined) return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sign;
    return String(x).localeCompare(String(y)) * sign;
  });
}
