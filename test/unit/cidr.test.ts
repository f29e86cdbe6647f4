import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ipAllowed, parseCidr } from '../../src/auth/cidr.ts';
import { FailureLimiter } from '../../src/platform/http/auth.ts';
import { redactUrl, stricterLevel } from '../../src/platform/logger.ts';

describe('CIDR allow-lists', () => {
  it('parses and rejects', () => {
    expect(parseCidr('10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(parseCidr('10.1.2.3')).toBe('10.1.2.3/32');
    expect(parseCidr('::1')).toBe('::1/128');
    expect(parseCidr('10.0.0.0/33')).toBeNull();
    expect(parseCidr('nope')).toBeNull();
    expect(parseCidr('1.2.3.4/8/9')).toBeNull();
  });
  it('matches IPv4, IPv6 and IPv4-mapped addresses', () => {
    expect(ipAllowed('10.2.3.4', ['10.0.0.0/8'])).toBe(true);
    expect(ipAllowed('11.2.3.4', ['10.0.0.0/8'])).toBe(false);
    expect(ipAllowed('::ffff:10.2.3.4', ['10.0.0.0/8'])).toBe(true);
    expect(ipAllowed('::1', ['::1/128'])).toBe(true);
    expect(ipAllowed('1.2.3.4', [])).toBe(true);
  });
  it('an address is always inside its own /32 and outside a disjoint one', () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.ipV4(), (a, b) => {
        expect(ipAllowed(a, [`${a}/32`])).toBe(true);
        expect(ipAllowed(a, [`${b}/32`])).toBe(a === b);
      }),
    );
  });
});

describe('failed-auth limiter', () => {
  it('blocks an IP after the limit within a window and forgets after it', () => {
    const l = new FailureLimiter(3, 60_000);
    for (let i = 0; i < 3; i++) l.fail('1.1.1.1', 1000);
    expect(l.blockedFor('1.1.1.1', 2000)).toBe(59);
    expect(l.blockedFor('2.2.2.2', 2000)).toBe(0);
    expect(l.blockedFor('1.1.1.1', 61_001)).toBe(0);
  });
});

describe('log redaction of URLs', () => {
  it('masks key-like query parameters', () => {
    expect(redactUrl('/next-cid?to=1&key=cc_abc_def&agent=7')).toBe('/next-cid?to=1&key=[redacted]&agent=7');
    expect(redactUrl('/x?api_key=u:p')).toBe('/x?api_key=[redacted]');
  });
});

describe('stricterLevel', () => {
  it('keeps the more severe level, whichever side it is on', () => {
    expect(stricterLevel('info', 'warn')).toBe('warn');
    expect(stricterLevel('warn', 'info')).toBe('warn');
    expect(stricterLevel('error', 'trace')).toBe('error');
    expect(stricterLevel('silent', 'warn')).toBe('silent');
    expect(stricterLevel('debug', 'debug')).toBe('debug');
  });
});
