// The simulator's one manager user as manager.conf describes it, and the limits manager.c puts on
// sessions that have not logged in yet: the user's ACL (`permit`/`deny`, ast_apply_ha: the last
// rule that matches the address decides, none matching allows), `allowmultiplelogin` (Asterisk's
// default: yes), `authlimit` (unauthenticated sessions at once, default 50) and `authtimeout`
// (seconds an unauthenticated session may stay, default 30).

export interface AmiUserOptions {
  /** ACL rules in manager.conf order, such as `deny=0.0.0.0/0` then `permit=127.0.0.1/32`. */
  acl?: Array<{ sense: 'permit' | 'deny'; net: string }>;
  /** A second login of the user while one is logged in (default true, as in manager.conf). */
  allowMultipleLogin?: boolean;
  /** Unauthenticated sessions at once; one more is closed before the greeting (default 50). */
  authLimit?: number;
  /** How long a session may stay without logging in, in ms (default 30 s). */
  authTimeoutMs?: number;
}

export type AmiUser = Required<AmiUserOptions>;

export const resolveAmiUser = (o: AmiUserOptions = {}): AmiUser => ({
  acl: o.acl ?? [],
  allowMultipleLogin: o.allowMultipleLogin ?? true,
  authLimit: o.authLimit ?? 50,
  authTimeoutMs: o.authTimeoutMs ?? 30_000,
});

/** An IPv4 address as a number, or null (IPv6 other than a mapped IPv4 is not matched). */
function ipv4(a: string): number | null {
  const m = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(a.trim());
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return parts.reduce((n, p) => n * 256 + p, 0);
}

/** A rule's network: `a.b.c.d`, `a.b.c.d/bits` or `a.b.c.d/mask` (ast_append_ha's forms). */
function network(net: string): { base: number; mask: number } | null {
  const [addr, m] = net.split('/');
  const base = ipv4(addr ?? '');
  if (base === null) return null;
  let mask = 0xffffffff;
  if (m !== undefined) {
    if (/^\d+$/.test(m)) {
      const bits = Number(m);
      if (bits > 32) return null;
      mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
    } else {
      const dotted = ipv4(m);
      if (dotted === null) return null;
      mask = dotted;
    }
  }
  return { base: (base & mask) >>> 0, mask };
}

/** ast_apply_ha: allowed unless the last rule matching the address denies it. */
export function aclAllows(acl: AmiUser['acl'], address: string | undefined): boolean {
  const a = ipv4(address ?? '');
  let allow = true;
  for (const rule of acl) {
    const n = network(rule.net);
    if (n && a !== null && (a & n.mask) >>> 0 === n.base) allow = rule.sense === 'permit';
  }
  return allow;
}
