// Which finished calls raise `route.failed`, and which cap refusals `cap.reached` names (pure).
import { describe, expect, it } from 'vitest';
import { capHits, ROUTE_FAILED } from '../../src/routing/alerts.ts';

describe('routing alerts (pure)', () => {
  it('route.failed: a call that waited on hold in vain or was found past its budget is a failure; a hangup, a default route or an answer is not', () => {
    expect(ROUTE_FAILED.queue_timeout).toBe(true);
    expect(ROUTE_FAILED.unattended_timeout).toBe(true);
    expect(ROUTE_FAILED.no_client).toBe(true);
    expect(ROUTE_FAILED.all_failed).toBe(true);
    expect(ROUTE_FAILED.answered).toBe(false);
    expect(ROUTE_FAILED.caller_abandoned).toBe(false);
    expect(ROUTE_FAILED.default_route).toBe(false);
    expect(ROUTE_FAILED.ended_unattended).toBe(false);
  });

  it('cap.reached: one hit per owner and cap, a seller cap once however many links it refused; waiting is no cap', () => {
    const hits = capHits({
      plan: { sellerId: 's1', sources: [{ kind: 'did', id: 'd1' }] } as never,
      refused: [
        { linkId: 'l1', clientId: 'c1', reason: 'concurrency' },
        { linkId: 'l2', clientId: 'c2', reason: 'seller_daily' },
        { linkId: 'l3', clientId: 'c3', reason: 'seller_daily' },
        { linkId: 'l4', clientId: 'c4', reason: 'did_concurrency' },
        { linkId: 'l5', clientId: 'c5', reason: 'waiting' },
        { linkId: 'l6', clientId: 'c6', reason: 'closed' },
      ] as never,
    });
    expect(hits).toEqual([
      { owner: 'link', ownerId: 'l1', cap: 'concurrency' },
      { owner: 'seller', ownerId: 's1', cap: 'daily' },
      { owner: 'did', ownerId: 'd1', cap: 'concurrency' },
    ]);
  });
});
