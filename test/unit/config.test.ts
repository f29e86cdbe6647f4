import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { safeUrl } from '../../src/main.ts';
import { unixSocketOptions } from '../../src/platform/redis/client.ts';

const base = {
  DATABASE_URL: 'postgres://u@127.0.0.1:5432/db',
  REDIS_URL: 'redis://127.0.0.1:6379',
  MASTER_KEY: 'ab'.repeat(32),
};

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('config', () => {
  it('accepts a minimal environment and applies defaults', () => {
    const c = parseConfig(base);
    expect(c.API_HOST).toBe('127.0.0.1');
    expect(c.API_PORT).toBe(8080);
    expect(c.masterKey.length).toBe(32);
    expect(c.asteriskNodes).toEqual([]);
    expect(c.TRUSTED_PROXIES).toEqual([]);
    expect(c.CID_REQUEST_LOG_LEVEL).toBe('warn'); // the hot path is not logged per request
  });

  it('PUBLIC_URL: an http(s) base without a trailing slash, a path kept; empty is unset', () => {
    expect(parseConfig(base).PUBLIC_URL).toBeUndefined();
    expect(parseConfig({ ...base, PUBLIC_URL: '' }).PUBLIC_URL).toBeUndefined();
    expect(parseConfig({ ...base, PUBLIC_URL: 'https://cc.example.com/' }).PUBLIC_URL).toBe(
      'https://cc.example.com',
    );
    expect(parseConfig({ ...base, PUBLIC_URL: 'https://CC.example.com:8443/capconduit//' }).PUBLIC_URL).toBe(
      'https://cc.example.com:8443/capconduit',
    );
    for (const bad of [
      'ftp://cc.example.com',
      'cc.example.com',
      'https://cc.example.com/?x=1',
      'https://cc.example.com/#a',
    ])
      expect(problems({ ...base, PUBLIC_URL: bad }), bad).toEqual([expect.stringMatching(/^PUBLIC_URL: /)]);
  });

  it('names every missing variable on its own line', () => {
    const p = problems({});
    expect(p).toEqual(
      expect.arrayContaining([
        'DATABASE_URL: required but not set',
        'REDIS_URL: required but not set',
        'MASTER_KEY: required but not set',
      ]),
    );
  });

  it('names the invalid variable and why', () => {
    expect(problems({ ...base, API_PORT: 'eighty' })).toEqual([expect.stringMatching(/^API_PORT: /)]);
    expect(problems({ ...base, DATABASE_URL: 'mysql://x@y/z' })).toEqual([
      'DATABASE_URL: must be a postgres:// URL',
    ]);
    expect(problems({ ...base, MASTER_KEY: 'short' })).toEqual([
      'MASTER_KEY: must be 32 bytes as 64 hex chars or base64',
    ]);
    expect(problems({ ...base, LOG_LEVEL: 'loud' })).toEqual([expect.stringMatching(/^LOG_LEVEL: /)]);
    expect(problems({ ...base, DEFAULT_TIMEZONE: 'Mars/Olympus' })).toEqual([
      'DEFAULT_TIMEZONE: unknown IANA time zone',
    ]);
  });

  it('takes Redis over TCP, TLS or a Unix socket, and nothing else', () => {
    for (const u of [
      'redis://127.0.0.1:6379',
      'rediss://r.example:6380/2',
      'unix:///run/redis/redis.sock?db=3',
    ])
      expect(problems({ ...base, REDIS_URL: u })).toEqual([]);
    for (const u of ['http://127.0.0.1:6379', 'unix://relative.sock', 'redis:///nohost', '/tmp/redis.sock'])
      expect(problems({ ...base, REDIS_URL: u })).toEqual([
        'REDIS_URL: must be a redis://, rediss:// or unix:///path URL',
      ]);
    expect(unixSocketOptions('unix:///run/r%20edis.sock?db=3&password=pw')).toEqual({
      path: '/run/r edis.sock',
      db: 3,
      password: 'pw',
    });
    expect(unixSocketOptions('redis://127.0.0.1:6379')).toBeNull();
    expect(safeUrl('unix:///run/redis.sock?password=pw')).not.toContain('pw');
  });

  it('treats empty values as unset', () => {
    expect(problems({ ...base, REDIS_URL: '' })).toEqual(['REDIS_URL: required but not set']);
  });

  it('parses one Asterisk node from ASTERISK_* and names what is missing', () => {
    const c = parseConfig({
      ...base,
      ASTERISK_ARI_URL: 'http://127.0.0.1:8088',
      ASTERISK_ARI_USER: 'a',
      ASTERISK_ARI_PASSWORD: 'b',
      ASTERISK_AMI_USER: 'c',
      ASTERISK_AMI_SECRET: 'd',
    });
    expect(c.asteriskNodes).toEqual([
      {
        id: 'asterisk-1',
        ariUrl: 'http://127.0.0.1:8088',
        ariUser: 'a',
        ariPassword: 'b',
        amiHost: '127.0.0.1',
        amiPort: 5038,
        amiUser: 'c',
        amiSecret: 'd',
        // Its cdr_pgsql table, read back for callers nobody saw (asterisk/cdr_pgsql.conf's name).
        cdrTable: 'asterisk_cdr',
      },
    ]);
    expect(
      parseConfig({
        ...base,
        ASTERISK_ARI_URL: 'http://127.0.0.1:8088',
        ASTERISK_ARI_USER: 'a',
        ASTERISK_ARI_PASSWORD: 'b',
        ASTERISK_AMI_USER: 'c',
        ASTERISK_AMI_SECRET: 'd',
        ASTERISK_CDR_TABLE: 'off',
      }).asteriskNodes[0]!.cdrTable,
    ).toBeUndefined();
    expect(problems({ ...base, ASTERISK_CDR_TABLE: 'cdr; drop table x' })).toEqual([
      expect.stringMatching(/^ASTERISK_CDR_TABLE: /),
    ]);
    expect(problems({ ...base, ASTERISK_ARI_URL: 'http://127.0.0.1:8088' })).toEqual(
      expect.arrayContaining([
        'ASTERISK_ARI_USER: required when ASTERISK_ARI_URL is set',
        'ASTERISK_AMI_SECRET: required when ASTERISK_ARI_URL is set',
      ]),
    );
  });

  it('parses ASTERISK_NODES and rejects bad JSON and duplicate ids', () => {
    const node = {
      ariUrl: 'http://127.0.0.1:8088',
      ariUser: 'a',
      ariPassword: 'b',
      amiUser: 'c',
      amiSecret: 'd',
    };
    const c = parseConfig({
      ...base,
      ASTERISK_NODES: JSON.stringify([
        { id: 'n1', ...node },
        { id: 'n2', ...node },
      ]),
    });
    expect(c.asteriskNodes.map((n) => n.id)).toEqual(['n1', 'n2']);
    expect(problems({ ...base, ASTERISK_NODES: '[{' })).toEqual([
      'ASTERISK_NODES: not valid JSON (expected an array of node objects)',
    ]);
    expect(
      problems({
        ...base,
        ASTERISK_NODES: JSON.stringify([
          { id: 'n1', ...node },
          { id: 'n1', ...node },
        ]),
      }),
    ).toEqual(['ASTERISK_NODES: duplicate node id "n1"']);
    expect(problems({ ...base, ASTERISK_NODES: JSON.stringify([{ id: 'n1' }]) })[0]).toMatch(
      /^ASTERISK_NODES\[0\.ariUrl\]/,
    );
  });

  it('splits TRUSTED_PROXIES', () => {
    expect(parseConfig({ ...base, TRUSTED_PROXIES: '10.0.0.1, 192.168.0.0/16' }).TRUSTED_PROXIES).toEqual([
      '10.0.0.1',
      '192.168.0.0/16',
    ]);
  });
});
