// Secrets at rest (carrier credentials, webhook secrets): AES-256-GCM under a key derived per record
// from the master key (HKDF-SHA256 with a random salt), the record's identity bound in as associated
// data so a sealed value copied onto another row does not open. A sealed value names the master key
// that sealed it (the first 8 hex of its SHA-256), so a keyring of the current and previous master
// keys opens every record while a rotation is under way.
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const INFO = Buffer.from('capconduit sealed secret v1');

export const keyIdOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

export class SealError extends Error {}

export class Keyring {
  private byId = new Map<string, Buffer>();
  readonly currentId: string;

  constructor(
    private current: Buffer,
    previous: Buffer[] = [],
  ) {
    if (current.length !== 32) throw new SealError('master key must be 32 bytes');
    for (const k of previous) this.byId.set(keyIdOf(k), k);
    this.currentId = keyIdOf(current);
    this.byId.set(this.currentId, current);
  }

  private recordKey(master: Buffer, salt: Buffer): Buffer {
    return Buffer.from(hkdfSync('sha256', master, salt, INFO, 32));
  }

  /** `v1.<key id>.<salt>.<iv>.<tag>.<ciphertext>`, base64url parts; `context` names the record and field. */
  seal(plain: string, context: string): string {
    const salt = randomBytes(16);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.recordKey(this.current, salt), iv);
    c.setAAD(Buffer.from(context));
    const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return [VERSION, this.currentId, salt, iv, c.getAuthTag(), ct]
      .map((x) => (typeof x === 'string' ? x : x.toString('base64url')))
      .join('.');
  }

  open(sealed: string, context: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 6 || parts[0] !== VERSION) throw new SealError('not a sealed value');
    const master = this.byId.get(parts[1]!);
    if (!master)
      throw new SealError(
        `sealed under master key ${parts[1]}, which is neither MASTER_KEY nor in MASTER_KEY_PREVIOUS`,
      );
    const [salt, iv, tag, ct] = parts.slice(2).map((p) => Buffer.from(p, 'base64url'));
    try {
      const d = createDecipheriv('aes-256-gcm', this.recordKey(master, salt!), iv!);
      d.setAAD(Buffer.from(context));
      d.setAuthTag(tag!);
      return Buffer.concat([d.update(ct!), d.final()]).toString('utf8');
    } catch {
      throw new SealError('sealed value does not open (tampered, or sealed for another record)');
    }
  }

  /** The master key id a sealed value was made with. */
  static keyIdOfSealed(sealed: string): string | null {
    const p = sealed.split('.');
    return p.length === 6 ? p[1]! : null;
  }
}
