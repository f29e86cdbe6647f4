// The hold queue's rule for one take (lineAdmits, pure), run as the slot script runs it over random
// lines of callers from several sellers with caps of their own: a waiter whose own seller's cap is
// full (marked held back when that cap refused it) keeps the link's free slot from nobody, while
// first come first served holds among the waiters that could take it, and a newcomer never takes a
// slot an admissible waiter could.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { lineAdmits } from '../../src/routing/queue-line.ts';

interface World {
  linkCap: number;
  sellerCaps: number[];
  /** Live slots on the link, by seller; and slots the sellers hold on other links. */
  onLink: number[];
  elsewhere: number[];
  line: Array<{ id: string; seller: number }>;
  /** Waiters their own seller's cap refused (the script's mark). */
  marked: Set<string>;
}

const sellerUsed = (w: World, s: number) => w.onLink[s]! + w.elsewhere[s]!;
const linkUsed = (w: World) => w.onLink.reduce((a, b) => a + b, 0);
/** Could this seller's caller take a slot on the link now, were it alone? */
const fits = (w: World, s: number) => linkUsed(w) < w.linkCap && sellerUsed(w, s) < w.sellerCaps[s]!;

/** One take by caller `id` of seller `s`, as takeSlot-n.lua decides it. */
function take(w: World, id: string, s: number): 'taken' | 'waiting' | 'concurrency' | 'seller_concurrency' {
  const heldBack = (x: string) => {
    const e = w.line.find((y) => y.id === x)!;
    return w.marked.has(x) && sellerUsed(w, e.seller) >= w.sellerCaps[e.seller]!;
  };
  const inLine = w.line.some((x) => x.id === id);
  if (
    !lineAdmits(
      w.line.map((x) => x.id),
      id,
      heldBack,
    )
  )
    return 'waiting';
  if (linkUsed(w) >= w.linkCap) return 'concurrency';
  if (sellerUsed(w, s) >= w.sellerCaps[s]!) {
    if (inLine) w.marked.add(id);
    return 'seller_concurrency';
  }
  w.onLink[s]!++;
  w.line = w.line.filter((x) => x.id !== id);
  w.marked.delete(id);
  return 'taken';
}

describe('hold queue: who may take a free slot of a link with a line', () => {
  it('lineAdmits: the first in line, anyone behind callers all held back, a newcomer only behind held-back callers', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 8 }), fc.nat(9), (held, pick) => {
        const line = held.map((_, i) => `w${i}`);
        const heldBack = (x: string) => held[Number(x.slice(1))]!;
        const me = pick < line.length ? line[pick]! : 'new';
        const ahead = me === 'new' ? held : held.slice(0, pick);
        expect(lineAdmits(line, me, heldBack)).toBe(ahead.every(Boolean));
      }),
      { numRuns: 500 },
    );
  });

  type Op =
    | { k: 'arrive'; seller: number }
    | { k: 'free'; pick: number }
    | { k: 'busy'; seller: number }
    | { k: 'idle'; seller: number }
    | { k: 'round' };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ k: fc.constant('arrive' as const), seller: fc.nat(2) }),
    fc.record({ k: fc.constant('free' as const), pick: fc.nat(5) }),
    fc.record({ k: fc.constant('busy' as const), seller: fc.nat(2) }),
    fc.record({ k: fc.constant('idle' as const), seller: fc.nat(2) }),
    fc.constant({ k: 'round' as const }),
  );

  it('over random runs: nobody takes a slot a caller ahead of it could take, and no caller held back by its own cap blocks the line', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 3, maxLength: 3 }),
        fc.array(op, { minLength: 20, maxLength: 60 }),
        (linkCap, sellerCaps, ops) => {
          const w: World = {
            linkCap,
            sellerCaps,
            onLink: [0, 0, 0],
            elsewhere: [0, 0, 0],
            line: [],
            marked: new Set(),
          };
          let n = 0;
          const attempt = (id: string, s: number) => {
            const ahead = w.line.slice(
              0,
              w.line.some((x) => x.id === id) ? w.line.findIndex((x) => x.id === id) : undefined,
            );
            const before = { fitsAhead: ahead.filter((x) => fits(w, x.seller)).map((x) => x.id) };
            const r = take(w, id, s);
            // First come first served among those who could take it: nobody ahead of a caller
            // served could have been served.
            if (r === 'taken') expect(before.fitsAhead).toEqual([]);
            return r;
          };
          for (const o of ops) {
            if (o.k === 'arrive') {
              const id = `c${++n}`;
              const r = attempt(id, o.seller);
              // A newcomer is refused by the link's cap or the line (it then joins the line);
              // refused by its own seller's cap it does not wait (that cap does not free here).
              if (r === 'concurrency' || r === 'waiting') w.line.push({ id, seller: o.seller });
            } else if (o.k === 'free' && linkUsed(w) > 0) {
              // A call on the link ends (whichever seller's, picked among those with one there).
              const busy = [0, 1, 2].filter((s) => w.onLink[s]! > 0);
              w.onLink[busy[o.pick % busy.length]!]!--;
            } else if (o.k === 'busy') w.elsewhere[o.seller]!++;
            else if (o.k === 'idle' && w.elsewhere[o.seller]! > 0) w.elsewhere[o.seller]!--;
            else if (o.k === 'round') {
              // Every waiter gets a turn, first in line first (a wake-up, or the safety poll).
              for (const x of [...w.line]) attempt(x.id, x.seller);
              // No head-of-line blocking: after a round, either the link is full or no waiter fits.
              if (linkUsed(w) < w.linkCap) expect(w.line.filter((x) => fits(w, x.seller))).toEqual([]);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
