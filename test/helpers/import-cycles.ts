// Import cycles under a source folder. Every relative import counts, `import type` included: a
// type-only cycle is erased at run time but still ties two folders into one unit a reader cannot
// take apart (the floors are platform -> asterisk -> domains, each importing only downhill).
// The TypeScript compiler's own import scanner decides what an import is, so it sees what tsc sees.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return /\.tsx?$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/**
 * Each cycle as one concrete loop of paths relative to `dir` (`a.ts -> b.ts -> a.ts`), one per
 * strongly connected component. `exclude` names folders under `dir` left out of the graph.
 */
export function importCycles(dir: string, exclude: string[] = []): string[][] {
  const root = resolve(dir);
  const excluded = exclude.map((d) => join(root, d));
  const inScope = (p: string) => !excluded.some((d) => p === d || p.startsWith(`${d}/`));
  const all = sourceFiles(root).filter(inScope);
  const known = new Set(all);
  const graph = new Map<string, string[]>();
  for (const file of all) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const out: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith('.')) continue;
      const base = resolve(dirname(file), fileName);
      const hit = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find((c) =>
        known.has(c),
      );
      if (hit) out.push(hit);
    }
    graph.set(file, out);
  }

  // Tarjan's strongly connected components, iteratively (no recursion depth limit).
  let next = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  for (const start of all) {
    if (idx.has(start)) continue;
    const work: Array<{ v: string; i: number }> = [{ v: start, i: 0 }];
    idx.set(start, next);
    low.set(start, next++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const succ = graph.get(top.v)!;
      if (top.i < succ.length) {
        const w = succ[top.i++]!;
        if (!idx.has(w)) {
          idx.set(w, next);
          low.set(w, next++);
          stack.push(w);
          onStack.add(w);
          work.push({ v: w, i: 0 });
        } else if (onStack.has(w)) low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.v, Math.min(low.get(parent.v)!, low.get(top.v)!));
      if (low.get(top.v) !== idx.get(top.v)) continue;
      const scc: string[] = [];
      for (let w = stack.pop()!; ; w = stack.pop()!) {
        onStack.delete(w);
        scc.push(w);
        if (w === top.v) break;
      }
      if (scc.length > 1 || succ.includes(top.v)) components.push(scc);
    }
  }

  // One loop per component for the message, by breadth-first search back to its first file.
  return components.map((scc) => {
    const inside = new Set(scc);
    const first = scc.slice().sort()[0]!;
    const prev = new Map<string, string | null>([[first, null]]);
    const queue = [first];
    while (queue.length) {
      const v = queue.shift()!;
      for (const w of graph.get(v)!) {
        if (w === first) {
          const path = [v];
          for (let p = prev.get(v); p; p = prev.get(p)) path.unshift(p);
          return [...path, first].map((p) => relative(root, p));
        }
        if (inside.has(w) && !prev.has(w)) {
          prev.set(w, v);
          queue.push(w);
        }
      }
    }
    return scc.map((p) => relative(root, p));
  });
}

/**
 * What importing `file` loads at run time: the files under `dir` it reaches through imports and
 * re-exports that are not type-only (`import type`/`export type` are erased; with
 * verbatimModuleSyntax an `import { type X }` still loads its module), and the packages those files
 * import (`ioredis`, `node:net`, ...). Paths relative to `dir`.
 */
export function runtimeLoads(dir: string, file: string): { files: string[]; packages: string[] } {
  const root = resolve(dir);
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [resolve(root, file)];
  while (todo.length) {
    const f = todo.pop()!;
    if (files.has(f)) continue;
    files.add(f);
    const src = ts.createSourceFile(f, readFileSync(f, 'utf8'), ts.ScriptTarget.Latest, false);
    for (const s of src.statements) {
      let spec: ts.Expression | undefined;
      if (ts.isImportDeclaration(s) && !s.importClause?.isTypeOnly) spec = s.moduleSpecifier;
      else if (ts.isExportDeclaration(s) && !s.isTypeOnly) spec = s.moduleSpecifier;
      if (!spec || !ts.isStringLiteral(spec)) continue;
      const name = spec.text;
      if (!name.startsWith('.')) {
        packages.add(name);
        continue;
      }
      const base = resolve(dirname(f), name);
      const hit = [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')].find((c) => {
        try {
          return statSync(c).isFile();
        } catch {
          return false;
        }
      });
      if (hit) todo.push(hit);
    }
  }
  return { files: [...files].map((p) => relative(root, p)).sort(), packages: [...packages].sort() };
}
