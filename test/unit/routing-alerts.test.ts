// Which finished calls raise `route.failed`, and which cap refusals `cap.reached` names (pure).
import { describe, expect, it } from 'vitest';
import { capHits, capZone, ROUTE_FAILED } from '../../src/routing/alerts.ts';

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

  it("cap.reached for a buyer group names the group (its clients' links share one hit) and counts its period in the group's zone", () => {
    const caps = { concurrency: 1, hourly: 1, daily: null, monthly: null, total: null };
    const g = { id: 'g1', caps, totalAnswered: 0, timezone: 'Asia/Kolkata' };
    const plan = {
      sellerId: 's1',
      sources: [],
      links: [
        { linkId: 'l1', timezone: 'America/New_York', group: g },
        { linkId: 'l2', timezone: null, group: g },
        { linkId: 'l3', timezone: null },
      ],
    } as never;
    const hits = capHits({
      plan,
      refused: [
        { linkId: 'l1', clientId: 'c1', reason: 'group_hourly' },
        { linkId: 'l2', clientId: 'c2', reason: 'group_hourly' },
        { linkId: 'l3', clientId: 'c3', reason: 'hourly' },
      ] as never,
    });
    expect(hits).toEqual([
      { owner: 'group', ownerId: 'g1', cap: 'hourly' },
      { owner: 'link', ownerId: 'l3', cap: 'hourly' },
    ]);
    expect(capZone({ plan }, hits[0]!)).toBe('Asia/Kolkata');
    expect(capZone({ plan }, { owner: 'link', ownerId: 'l1', cap: 'hourly' })).toBe('America/New_York');
    expect(capZone({ plan }, hits[1]!)).toBeNull();
    expect(capZone({ plan }, { owner: 'seller', ownerId: 's1', cap: 'daily' })).toBeNull();
  });
});
