import { BlockList, isIP } from 'node:net';

/** Validates an IPv4/IPv6 address or CIDR; returns a normalised string or null. */
export function parseCidr(s: string): string | null {
  const [addr, bits, extra] = s.trim().split('/');
  if (extra !== undefined || !addr) return null;
  const fam = isIP(addr);
  if (!fam) return null;
  const max = fam === 4 ? 32 : 128;
  if (bits === undefined) return `${addr}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return null;
  return `${addr}/${Number(bits)}`;
}

/** True when `ip` falls inside any of `cidrs` (IPv4-mapped IPv6 addresses count as IPv4). */
export function ipAllowed(ip: string, cidrs: string[]): boolean {
  if (cidrs.length === 0) return true;
  const list = new BlockList();
  for (const c of cidrs) {
    const n = parseCidr(c);
    if (!n) continue;
    const [a, b] = n.split('/') as [string, string];
    list.addSubnet(a, Number(b), isIP(a) === 4 ? 'ipv4' : 'ipv6');
  }
  const plain = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const fam = isIP(plain);
  if (!fam) return false;
  return list.check(plain, fam === 4 ? 'ipv4' : 'ipv6');
}
