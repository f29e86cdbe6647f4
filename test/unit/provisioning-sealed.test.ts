// Sealed secrets: round trips under any master key, bound to their record, tamper-evident, and
// readable through a rotation (current key + previous keys) but not without the key that sealed them.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Keyring } from '../../src/provisioning/sealed.ts';

describe('sealed secrets', () => {
  it('opens what it sealed, for the same record only', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.string(),
        fc.string({ minLength: 1 }),
        (k, plain, ctx) => {
          const ring = new Keyring(Buffer.from(k));
          const s = ring.seal(plain, ctx);
          expect(ring.open(s, ctx)).toBe(plain);
          expect(() => ring.open(s, `${ctx}x`)).toThrow(/does not open/);
          if (plain.length > 3) expect(s).not.toContain(plain);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses a flipped byte anywhere in the ciphertext, tag, iv or salt', () => {
    const ring = new Keyring(randomBytes(32));
    const s = ring.seal('api-secret-123', 'ctx');
    const parts = s.split('.');
    for (const i of [2, 3, 4, 5]) {
      const b = Buffer.from(parts[i]!, 'base64url');
      b[0]! ^= 1;
      const t = [...parts];
      t[i] = b.toString('base64url');
      expect(() => ring.open(t.join('.'), 'ctx')).toThrow();
    }
  });

  it('reads old records during a rotation and names the missing key otherwise', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const s = new Keyring(oldKey).seal('x', 'c');
    expect(() => new Keyring(newKey).open(s, 'c')).toThrow(/neither MASTER_KEY nor in MASTER_KEY_PREVIOUS/);
    const during = new Keyring(newKey, [oldKey]);
    const resealed = during.seal(during.open(s, 'c'), 'c');
    expect(new Keyring(newKey).open(resealed, 'c')).toBe('x');
    expect(Keyring.keyIdOfSealed(resealed)).toBe(during.currentId);
  });
});
