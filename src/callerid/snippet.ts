// The VICIdial / plain Asterisk dialplan routine (asterisk/vicidial-cid.conf) made ready to paste for
// one caller-ID pool: the same text, with the daemon's URL, the pool's fallback number and the pool in
// the example call filled in. The dialer key stays a placeholder (keys are shown once, at creation);
// the routine sends it in the Authorization header, as the file explains.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The routine as shipped (read from src/ and from dist/ alike: both sit two levels below the root). */
export const VICIDIAL_CID_FILE = fileURLToPath(new URL('../../asterisk/vicidial-cid.conf', import.meta.url));

let shipped: string | null = null;
export function vicidialTemplate(): string {
  shipped ??= readFileSync(VICIDIAL_CID_FILE, 'utf8');
  return shipped;
}

/** A pool id as pools are named (letters, digits, `_`, `.`, `-`): nothing a dialplan reads specially. */
const POOL_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export interface SnippetFor {
  /** Where the dialer reaches the daemon, e.g. http://10.0.0.5:8080 (no trailing slash). */
  url: string;
  pool: string;
  /** The number to use when the daemon does not answer; the file's example when the pool has none. */
  fallback: string | null;
}

/** Pure: the routine `template` for one pool. */
export function vicidialSnippet(template: string, o: SnippetFor): string {
  if (!POOL_ID.test(o.pool)) throw new Error(`not a pool id: ${o.pool}`);
  const url = o.url.replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s;]+$/.test(url)) throw new Error(`not a URL for the dialplan: ${o.url}`);
  let out = template
    .replace(/^CAPCONDUIT_URL=.*$/m, `CAPCONDUIT_URL=${url}`)
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a dialplan variable, not JavaScript
    .replace('Gosub(capconduit-cid,s,1(${CAMPAIGN},', `Gosub(capconduit-cid,s,1(${o.pool},`);
  if (o.fallback && /^\+?\d{6,15}$/.test(o.fallback))
    out = out.replace(/^CID_FALLBACK=.*$/m, `CID_FALLBACK=${o.fallback}`);
  return `; For the CapConduit caller-ID pool ${o.pool}: Gosub(capconduit-cid,s,1(${o.pool},<number dialled>))\n${out}`;
}
