// The daemon compiled to JavaScript, for tests that run it as a process of its own (killed -9,
// frozen, restarted). `bin/capconduit.js` loads the sources through tsx, which costs each process
// ~3.5 s of CPU on an idle 2-core machine, ~1.6 s of it tsx's loader; the compiled tree loads
// without it, as production's `dist/` does. Compiled once per state of the sources: the first
// process that asks (any test file) transpiles src/ (TypeScript's transpileModule, file by file,
// as `tsc` emits it without type checks: the type check is `npm test`'s own step) into
// `.test-build-<hash of the sources>/` and renames it into place whole, so a file that asks at the
// same moment finds either no tree or a complete one. The tests of the executable itself
// (cli, cli-ops, container) keep running `bin/capconduit.js`.
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import type * as TS from 'typescript';

/** The tree sits one level below the repository, as dist/ does: the code finds drizzle/ and asterisk/ at `../..`. */
export const BUILD_PREFIX = '.test-build-';

let built: string | undefined;

/** The path of the compiled `capconduit` entry (cli/entry.js), compiling the sources first if they changed. */
export function daemonEntry(): string {
  built ??= build();
  return join(built, 'cli', 'entry.js');
}

/** The folder the current sources compile into, and those sources (path -> content). */
function current(): { dir: string; texts: Map<string, Buffer> } {
  const hash = createHash('sha1');
  const texts = new Map<string, Buffer>();
  for (const f of listFiles('src')) {
    const b = readFileSync(f);
    texts.set(f, b);
    hash.update(f).update('\0').update(b).update('\0');
  }
  return { dir: `${BUILD_PREFIX}${hash.digest('hex').slice(0, 12)}`, texts };
}

function build(): string {
  const { dir, texts } = current();
  if (existsSync(dir)) return dir;
  // Loaded only to compile (a test file that finds the tree compiled does not load the compiler).
  const ts = createRequire(import.meta.url)('typescript') as typeof TS;
  const options: TS.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    verbatimModuleSyntax: true,
    rewriteRelativeImportExtensions: true,
  };
  const tmp = `${dir}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  for (const [f, b] of texts) {
    const rel = relative('src', f);
    if (f.endsWith('.ts')) {
      const out = ts.transpileModule(b.toString('utf8'), { fileName: f, compilerOptions: options });
      write(join(tmp, rel.replace(/\.ts$/, '.js')), out.outputText);
    } else {
      mkdirSync(dirname(join(tmp, rel)), { recursive: true });
      copyFileSync(f, join(tmp, rel));
    }
  }
  try {
    renameSync(tmp, dir);
  } catch (e) {
    // Another test file compiled the same sources first: theirs is as good.
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(dir)) throw e;
  }
  return dir;
}

/** Every file of src/: the TypeScript to compile and what the code reads beside itself (Lua, console assets). */
function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else if (!p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function write(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** Removes trees compiled from other states of the sources (global setup; one vitest run per checkout at a time). */
export function removeOldDaemonBuilds(): void {
  const { dir } = current();
  for (const e of readdirSync('.'))
    if (e.startsWith(BUILD_PREFIX) && e !== dir) rmSync(e, { recursive: true, force: true });
}
