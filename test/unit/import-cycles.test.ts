import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importCycles, runtimeLoads } from '../helpers/import-cycles.ts';

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

// Modules that decide without I/O (their top note says pure): what importing one loads at run time
// reaches no client of PostgreSQL, Redis, a socket or a file, so a test of it needs no server and a
// pure piece never drags a connection's module into whatever imports it.
const PURE = [
  'asterisk/transport-choice.ts',
  'callerid/decide.ts',
  'callerid/stats.ts',
  'cdr/money.ts',
  'cdr/record.ts',
  'console/throttle.ts',
  'pbx/allocate.ts',
  'pbx/options.ts',
  'pbx/realtime.ts',
  'pbx/rows.ts',
  'provisioning/drift.ts',
  'reports/periods.ts',
  'routing/call-record.ts',
  'routing/channel-vars.ts',
  'routing/call.ts',
  'routing/decide.ts',
  'routing/outcome.ts',
  'routing/queue-line.ts',
  'routing/screen.ts',
  'routing/slot-args.ts',
  'routing/strays.ts',
  'time/zone.ts',
];
const IO =
  /^(ioredis|postgres|bullmq|ws|fastify|@fastify\/.*|undici|pino|drizzle-orm\/postgres-js.*|node:(fs|net|http|https|http2|tls|dgram|child_process|worker_threads|cluster))$/;

describe('pure modules', () => {
  it.each(PURE)('%s loads nothing that does I/O', (file) => {
    expect(runtimeLoads('src', file).packages.filter((p) => IO.test(p))).toEqual([]);
  });

  const dir = mkdtempSync(join(tmpdir(), 'loads-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('follows value imports and re-exports, not type-only ones', () => {
    const write = (path: string, text: string) => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    write(
      'pure.ts',
      "import type { R } from './io.ts';\nexport { f } from './mid.ts';\nexport type X = R;\n",
    );
    write('mid.ts', "import { type Y, g } from './leaf.ts';\nexport const f = (y: Y) => g(y);\n");
    write('leaf.ts', 'export type Y = number;\nexport const g = (y: number) => y;\n');
    write('io.ts', "import { Redis } from 'ioredis';\nexport type R = Redis;\n");
    write('user.ts', "import { f } from './pure.ts';\nimport './io.ts';\nexport const h = f;\n");
    expect(runtimeLoads(dir, 'pure.ts')).toEqual({ files: ['leaf.ts', 'mid.ts', 'pure.ts'], packages: [] });
    expect(runtimeLoads(dir, 'user.ts').packages).toEqual(['ioredis']);
  });
});
