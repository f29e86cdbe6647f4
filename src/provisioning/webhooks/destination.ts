// Where a webhook may be sent: https only, and never to a private, loopback, link-local, unspecified
// or multicast address (the daemon must not be a way into the network it sits in), unless
// WEBHOOK_ALLOW_PRIVATE is set (tests and labs, which may also use plain http). Checked when a
// subscription is made and again before every delivery, since a name can resolve elsewhere later.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [a, b] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(a, b, 'ipv4');
for (const [a, b] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(a, b, 'ipv6');

/** True for an address a webhook must not reach (IPv4-mapped IPv6 counts as IPv4). */
export function isPrivateAddress(ip: string): boolean {
  const plain = ip.toLowerCase().startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
  const fam = isIP(plain);
  if (!fam) return true;
  return blocked.check(plain, fam === 4 ? 'ipv4' : 'ipv6');
}

/** Null when the URL may be used; else why not. */
export async function destinationProblem(url: string, allowPrivate: boolean): Promise<string | null> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'not a URL';
  }
  if (u.username || u.password) return 'credentials in the URL are not accepted';
  if (u.protocol !== 'https:' && !(allowPrivate && u.protocol === 'http:'))
    return 'webhook URLs must be https';
  if (allowPrivate) return null;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  let addrs: string[];
  try {
    addrs = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  } catch {
    return `cannot resolve ${host}`;
  }
  const bad = addrs.find(isPrivateAddress);
  return bad ? `${host} resolves to ${bad}, a private, loopback or link-local address` : null;
}
