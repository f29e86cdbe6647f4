import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.ts';
import { ERROR_CODES } from '../../src/platform/http/errors.ts';

describe('error catalogue', () => {
  it('matches the table in docs/api.md code for code and status for status', () => {
    const readme = readFileSync('docs/api.md', 'utf8');
    const table = readme.split('<!-- error-codes:start -->')[1]!.split('<!-- error-codes:end -->')[0]!;
    const documented = Object.fromEntries(
      [...table.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])]),
    );
    expect(documented).toEqual({ ...ERROR_CODES });
  });
});

describe('.env.example', () => {
  it('documents every variable the config schema reads', () => {
    const example = readFileSync('.env.example', 'utf8');
    const src = readFileSync('src/config.ts', 'utf8');
    const schemaBlock = src.slice(
      src.indexOf('const schema = z.object({'),
      src.indexOf('export type Config'),
    );
    const names = [...schemaBlock.matchAll(/^ {2}([A-Z][A-Z0-9_]+):/gm)].map((m) => m[1]!);
    expect(names.length).toBeGreaterThan(10);
    const missing = names.filter(
      (n) => n !== 'NODE_ENV' && n !== 'LOG_PRETTY' && !new RegExp(`^#? ?${n}=`, 'm').test(example),
    );
    expect(missing).toEqual([]);
  });

  it('copied to .env, works with what scripts/run.sh adds (the services it starts and a development key)', () => {
    const env = parseEnv(readFileSync('.env.example', 'utf8'));
    expect(env.DATABASE_URL).toBeUndefined(); // left to the project's services unless the operator sets one
    const config = parseConfig({
      ...env,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/capconduit',
      REDIS_URL: 'redis://127.0.0.1:6379',
      MASTER_KEY: 'ab'.repeat(32),
    });
    expect(config.asteriskNodes).toEqual([]);
    expect([config.API_HOST, config.API_PORT]).toEqual(['127.0.0.1', 8080]);
    // Setting the ARI URL is all it takes to reach the simulator or the sample Asterisk config.
    const withNode = parseConfig({
      ...env,
      ASTERISK_ARI_URL: 'http://127.0.0.1:8088',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/capconduit',
      REDIS_URL: 'redis://127.0.0.1:6379',
      MASTER_KEY: 'ab'.repeat(32),
    });
    expect(withNode.asteriskNodes).toMatchObject([
      { ariUser: 'asterisk', amiUser: 'asterisk', amiPort: 5038 },
    ]);
  });
});
