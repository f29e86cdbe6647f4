// Every Redis key of ours is built here: `<prefix>:<domain>:{<hash tag>}:<part>`.
// The {hash tag} keeps one link's (or one pool's) keys in one Redis Cluster slot, so a Lua
// script touching them stays legal on Cluster.
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** A key for one entity whose keys must share a slot. */
  tagged(domain: string, tag: string, ...parts: (string | number)[]): string {
    return [this.prefix, domain, `{${tag}}`, ...parts].join(':');
  }

  /** A key outside any hash tag. */
  plain(domain: string, ...parts: (string | number)[]): string {
    return [this.prefix, domain, ...parts].join(':');
  }
}
