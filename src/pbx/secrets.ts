import { randomBytes } from 'node:crypto';

const ALNUM = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** Uniformly random characters from `alphabet` (rejection sampling, no modulo bias). */
function randomString(length: number, alphabet: string): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % alphabet.length)) out += alphabet[b % alphabet.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** A SIP password: 24 characters from 56 symbols (~139 bits), safe in any SIP client's form. */
export function generatePassword(): string {
  return randomString(24, ALNUM);
}

/** A SIP username for a registration-based client endpoint: `c` + 11 lower-case letters/digits. */
export function generateUsername(): string {
  return `c${randomString(11, 'abcdefghijkmnpqrstuvwxyz23456789')}`;
}
