import { describe, expect, it } from 'vitest';
import type { ReadinessCheck } from '../../src/platform/http/context.ts';
import { readiness } from '../../src/platform/http/routes/health.ts';

const check = (name: string, o: Partial<ReadinessCheck> = {}): ReadinessCheck => ({
  name,
  check: async () => {},
  ...o,
});

describe('/ready verdict', () => {
  const checks = [
    check('postgres'),
    check('redis'),
    check('asterisk:a', { group: 'asterisk' }),
    check('asterisk:a:ami', { critical: false }),
    check('asterisk:b', { group: 'asterisk' }),
    check('asterisk:b:load', { critical: false }),
  ];
  const verdict = (failing: string[]) => readiness(checks, (n) => !failing.includes(n));

  it('is ready when everything passes', () => {
    expect(verdict([])).toEqual({ status: 'ready', degraded: [] });
  });
  it('is not ready when PostgreSQL or Redis fails', () => {
    expect(verdict(['redis']).status).toBe('not_ready');
    expect(verdict(['postgres']).status).toBe('not_ready');
  });
  it('is degraded, naming the parts, while one node of two is usable or a node sheds or lost AMI', () => {
    expect(verdict(['asterisk:a'])).toEqual({ status: 'degraded', degraded: ['asterisk:a'] });
    expect(verdict(['asterisk:a:ami', 'asterisk:b:load'])).toEqual({
      status: 'degraded',
      degraded: ['asterisk:a:ami', 'asterisk:b:load'],
    });
  });
  it('is not ready when no node is usable', () => {
    expect(verdict(['asterisk:a', 'asterisk:b']).status).toBe('not_ready');
  });
});
