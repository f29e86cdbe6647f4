import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
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
});
