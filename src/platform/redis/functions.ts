// Redis Functions (Redis 7) for the hottest scripts. An EVALSHA script runs its whole text on every
// call, so the shared helpers it includes are defined anew each time: for the caller-ID pick that was
// 8-14 µs of the ~60 µs Redis spends a call (BENCHMARKS.md). A function library is loaded once per
// server; its top level (the helpers) runs at load, and each call runs only the function.
//
// The library and its function names carry a hash of the code, so instances of different versions
// sharing one Redis (a rolling upgrade) each call their own code. A Redis that forgot the library
// (restarted without persistence, FUNCTION FLUSH, a failover to a node that never had it) answers
// "Function not found": the call loads the library and tries once more.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { corkUntilTurnEnds } from '../../net/cork.ts';
import type { ScriptDef } from './scripts.ts';

export interface RedisLibrary {
  name: string;
  code: string;
  /** Script name -> the function name registered for it. */
  functions: Map<string, string>;
}

/**
 * A library of scripts: their includes once at the top, each script's own text as a function.
 * Helpers' state at the top level lives as long as the library, so a script that keeps per-run
 * state there must reset it itself (cid-common.lua's fresh_run()).
 */
export function buildLibrary(prefix: string, defs: ScriptDef[]): RedisLibrary {
  const includes = [...new Set(defs.flatMap((d) => d.includes))];
  const hash = createHash('sha1')
    .update(JSON.stringify([includes, defs.map((d) => [d.name, d.body])]))
    .digest('hex')
    .slice(0, 12);
  const name = `${prefix}_${hash}`;
  const functions = new Map(defs.map((d) => [d.name, `${name}_${d.name}`]));
  const code = [
    `#!lua name=${name}`,
    ...includes,
    ...defs.flatMap((d) => [
      `local function ${d.name}(KEYS, ARGV)`,
      d.body,
      'end',
      `redis.register_function('${functions.get(d.name)}', ${d.name})`,
    ]),
  ].join('\n');
  return { name, code, functions };
}

const used = new WeakMap<Redis, Set<string>>();

/**
 * Loads the library on this connection now (when connected) and on every (re)connect: a Redis that
 * comes back empty gets it before the first call. A failed load is left to the first call that
 * finds the function missing.
 */
export function useLibrary(redis: Redis, lib: RedisLibrary): void {
  let names = used.get(redis);
  if (!names) {
    names = new Set();
    used.set(redis, names);
  }
  if (names.has(lib.name)) return;
  names.add(lib.name);
  const load = () => void loadLibrary(redis, lib).catch(() => {});
  redis.on('ready', load);
  if (redis.status === 'ready') load();
}

async function loadLibrary(redis: Redis, lib: RedisLibrary): Promise<void> {
  await redis.call('FUNCTION', 'LOAD', 'REPLACE', lib.code);
}

/**
 * Calls a function of a library set up with useLibrary. `coalesce` (default on) holds the call's
 * write until the event-loop turn ends, with every other write of the turn (see net/cork.ts); off,
 * it leaves at once, so Redis starts on it while this process goes on with the turn's other work.
 */
export async function callFunction<T>(
  redis: Redis,
  lib: RedisLibrary,
  script: string,
  keys: string[],
  args: (string | number)[],
  o: { coalesce?: boolean; maxHeld?: number } = {},
): Promise<T> {
  const fn = lib.functions.get(script);
  if (!fn) throw new Error(`redis library ${lib.name} has no function ${script}`);
  if (o.coalesce !== false) corkUntilTurnEnds(redis.stream, o.maxHeld);
  try {
    return (await redis.fcall(fn, keys.length, ...keys, ...args)) as T;
  } catch (err) {
    if (!(err instanceof Error) || !/function not found/i.test(err.message)) throw err;
    await loadLibrary(redis, lib);
    return (await redis.fcall(fn, keys.length, ...keys, ...args)) as T;
  }
}
