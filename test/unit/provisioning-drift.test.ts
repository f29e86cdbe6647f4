// What reconcile does with a number the carrier lists that we do not hold (pure): a job item's late
// purchase becomes the answer of an item left without a number, else goes back to the carrier; only
// an unclaimed number follows where it sits (a seller's subaccount: adopted; the primary: reported).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ItemClaim, unknownNumberAction } from '../../src/provisioning/drift.ts';

const claim = fc.record({
  itemId: fc.uuid(),
  jobId: fc.uuid(),
  sellerId: fc.option(fc.uuid(), { nil: null }),
  answered: fc.boolean(),
});

describe('an unknown number at the carrier', () => {
  it('is never kept twice: claimed numbers go to an item without one, or back to the carrier', () => {
    fc.assert(
      fc.property(fc.option(fc.uuid(), { nil: null }), fc.array(claim, { maxLength: 5 }), (group, claims) => {
        const d = unknownNumberAction(group, claims);
        const open = claims.filter((c) => !c.answered && c.sellerId);
        if (open.length) {
          expect(d.action).toBe('adopt_for_item');
          // The first unanswered claim (claims come newest job first) gets it, for its own seller.
          expect(d).toEqual({ action: 'adopt_for_item', claim: open[0] });
        } else if (claims.length) expect(d).toEqual({ action: 'release', claim: claims[0] });
        else if (group) expect(d).toEqual({ action: 'adopt', sellerId: group });
        else expect(d).toEqual({ action: 'report' });
      }),
      { numRuns: 300 },
    );
  });

  it('a claim wins over the subaccount it sits in', () => {
    const answered: ItemClaim = { itemId: 'i1', jobId: 'j1', sellerId: 's1', answered: true };
    expect(unknownNumberAction('s2', [answered]).action).toBe('release');
    expect(unknownNumberAction('s2', [answered, { ...answered, itemId: 'i2', answered: false }])).toEqual({
      action: 'adopt_for_item',
      claim: { ...answered, itemId: 'i2', answered: false },
    });
  });
});
