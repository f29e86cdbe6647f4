import { describe, expect, it } from 'vitest';
import { NotOurs } from '../../src/callerid/health.ts';

describe('NotOurs (numbers recently found not to be ours)', () => {
  it('remembers a number for its TTL only, and starts over when full', () => {
    const n = new NotOurs(1000, 2);
    n.add('+12125550000', 0);
    expect(n.has('+12125550000', 999)).toBe(true);
    expect(n.has('+12125550000', 1000)).toBe(false);
    expect(n.has('+12125550000', 500)).toBe(false); // expired entries are gone, not revived
    n.add('+1', 0);
    n.add('+2', 0);
    n.add('+3', 0); // full: the map starts over rather than growing without bound
    expect([n.has('+1', 1), n.has('+2', 1), n.has('+3', 1)]).toEqual([false, false, true]);
  });
});
