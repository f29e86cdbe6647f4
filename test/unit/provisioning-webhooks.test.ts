// Webhook signatures and destinations (pure parts): a signature verifies only for its secret, body
// and a recent timestamp; private, loopback and link-local destinations are refused unless allowed.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { destinationProblem, isPrivateAddress } from '../../src/provisioning/webhooks/destination.ts';
import { sign, verify } from '../../src/provisioning/webhooks/sign.ts';

describe('webhook signatures', () => {
  it('verify accepts exactly what sign produced', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.string(),
        fc.string(),
        fc.integer({ min: 1e9, max: 2e9 }),
        (secret, body, other, t) => {
          const h = sign(secret, t, body);
          expect(verify(secret, h, body, 300, t)).toBe(true);
          if (other !== body) expect(verify(secret, h, other, 300, t)).toBe(false);
          expect(verify(`${secret}x`, h, body, 300, t)).toBe(false);
          expect(verify(secret, h, body, 300, t + 301)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('webhook destinations', () => {
  it('classifies addresses', () => {
    for (const ip of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '::1',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '100.64.0.1',
    ])
      expect(isPrivateAddress(ip), ip).toBe(true);
    for (const ip of ['203.0.113.9', '8.8.8.8', '2001:4860:4860::8888'])
      expect(isPrivateAddress(ip), ip).toBe(false);
  });

  it('refuses http, credentials and private hosts unless allowed', async () => {
    expect(await destinationProblem('http://203.0.113.9/hook', false)).toMatch(/https/);
    expect(await destinationProblem('https://user:pw@203.0.113.9/hook', false)).toMatch(/credentials/);
    expect(await destinationProblem('https://127.0.0.1:8443/hook', false)).toMatch(
      /private, loopback or link-local/,
    );
    expect(await destinationProblem('https://[::1]/hook', false)).toMatch(/private/);
    expect(await destinationProblem('https://169.254.169.254/latest', false)).toMatch(/private/);
    expect(await destinationProblem('https://localhost/hook', false)).toMatch(/private|resolve/);
    expect(await destinationProblem('https://203.0.113.9/hook', false)).toBeNull();
    expect(await destinationProblem('http://127.0.0.1:9/hook', true)).toBeNull();
  });
});
