import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles } from '../helpers/import-cycles.ts';

describe('import cycles', () => {
  it('src/ has none', () => {
    expect(importCycles('src').map((c) => c.join(' -> '))).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'cycles-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('finds a cycle made of type-only imports across folders, and ignores packages', () => {
    write(
      'a/one.ts',
      "import type { B } from '../b/two.ts';\nimport { z } from 'zod';\nexport type A = B;\n",
    );
    write('b/two.ts', "export type { A } from '../a/one.ts';\nexport type B = number;\n");
    write('c/three.ts', "import type { A } from '../a/one.ts';\nexport type C = A;\n");
    expect(importCycles(dir)).toEqual([['a/one.ts', 'b/two.ts', 'a/one.ts']]);
    expect(importCycles(dir, ['b'])).toEqual([]);
  });
});
