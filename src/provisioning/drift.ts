// What reconcile does with a number the carrier lists for the account that we do not hold (pure).
//
// A job item "claims" a number it recorded as the one to buy (`chosen`) or gave up on as someone
// else's (`tried`). Such a number is ours at the carrier because a purchase we sent landed after the
// item stopped waiting for it (a timed-out or 5xx answer that had in fact succeeded):
// - the item has no number (it failed, or found no inventory): the number becomes the item's answer,
//   as if the purchase had answered in time (`adopt_for_item`);
// - the item answered with another number: the seller asked for one and has one, so the stray is
//   given back to the carrier (`release`).
// A number no item claims was bought some other way (by hand in the carrier's portal): in a seller's
// subaccount it becomes that seller's (`adopt`); on the primary account it names no seller and is only
// reported (`report`).

export interface ItemClaim {
  itemId: string;
  jobId: string;
  sellerId: string | null;
  /** The item ended with a number of its own (`provisioned`). */
  answered: boolean;
}

export type UnknownNumberAction =
  | { action: 'adopt_for_item'; claim: ItemClaim }
  | { action: 'release'; claim: ItemClaim }
  | { action: 'adopt'; sellerId: string }
  | { action: 'report' };

export function unknownNumberAction(
  groupSellerId: string | null,
  claims: readonly ItemClaim[],
): UnknownNumberAction {
  const open = claims.find((c) => !c.answered && c.sellerId);
  if (open) return { action: 'adopt_for_item', claim: open };
  if (claims[0]) return { action: 'release', claim: claims[0] };
  if (groupSellerId) return { action: 'adopt', sellerId: groupSellerId };
  return { action: 'report' };
}
