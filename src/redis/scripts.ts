import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Redis } from 'ioredis';
import { corkUntilTurnEnds } from '../net/cork.ts';

// Redis scripts live as `.lua` files beside the code that calls them, named `<name>-<numKeys>.lua`.
// `--@include <file>` lines pull in shared fragments from the same folder, so nothing is copy-pasted.
export interface ScriptDef {
  name: string;
  numberOfKeys: number;
  /** The whole script, includes expanded (what EVAL/EVALSHA run). */
  lua: string;
  /** The script's own text without its includes, and the included fragments (a Redis Function library defines those once). */
  body: string;
  includes: string[];
}

export function loadScript(path: string): ScriptDef {
  const m = /^(.+)-(\d+)\.lua$/.exec(basename(path));
  if (!m) throw new Error(`script file name must be <name>-<numKeys>.lua: ${path}`);
  const dir = path.slice(0, path.length - basename(path).length);
  const includes: string[] = [];
  const INCLUDE = /^--@include (\S+)\s*$/gm;
  const text = readFileSync(path, 'utf8');
  const lua = text.replace(INCLUDE, (_l, f: string) => {
    const inc = readFileSync(dir + f, 'utf8');
    includes.push(inc);
    return inc;
  });
  return { name: m[1]!, numberOfKeys: Number(m[2]), lua, body: text.replace(INCLUDE, ''), includes };
}

/**
 * Defines the scripts on a connection with ioredis `defineCommand` (EVALSHA with EVAL fallback,
 * so a Redis restart that forgets scripts costs one extra round trip, not an error).
 */
export function defineScripts(redis: Redis, defs: ScriptDef[]): void {
  for (const d of defs) {
    if (typeof (redis as unknown as Record<string, unknown>)[d.name] === 'function') continue;
    redis.defineCommand(d.name, { numberOfKeys: d.numberOfKeys, lua: d.lua });
  }
}

/** Calls a script defined with defineScripts. Arguments are stringified by ioredis. */
export function callScript<T>(
  redis: Redis,
  name: string,
  keys: string[],
  args: (string | number)[],
): Promise<T> {
  const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<T>>)[name];
  if (!fn) throw new Error(`redis script ${name} is not defined on this connection`);
  corkUntilTurnEnds(redis.stream);
  return fn.call(redis, ...keys, ...args);
}
