// The daemon's Redis scripts: one list, registered once per connection with ioredis `defineCommand`
// (EVALSHA with an EVAL fallback, so a Redis restart that forgot them costs one extra round trip, not
// an error) and typed once, below, by declaration merging: `redis.takeSlot(...)` and
// `pipeline.placeCids(...)` are ordinary typed commands, no casts. The KEYS and ARGV of each call are
// built by pure functions beside the code that calls it; what a reply's codes mean is in codes.ts.
//
// Scripts live as `.lua` files in their domain's lua/ folder, named `<name>-<numKeys>.lua`, with a
// header listing KEYS, ARGV and the reply. `<name>-n.lua` takes a number of KEYS that varies per call
// (routing's slot scripts: one group of keys per cap owner): its callers pass the count first. `--@include <file>` lines pull in shared fragments from the
// same folder, so nothing is copy-pasted.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis, RedisKey, RedisValue, Result } from 'ioredis';
import { corkUntilTurnEnds } from '../../net/cork.ts';

export interface ScriptDef {
  name: string;
  /** null: the count varies per call and is passed as the first argument. */
  numberOfKeys: number | null;
  /** The whole script, includes expanded (what EVAL/EVALSHA run). */
  lua: string;
  /** The script's own text without its includes, and the included fragments (a Redis Function library defines those once). */
  body: string;
  includes: string[];
}

export function loadScript(path: string): ScriptDef {
  const m = /^(.+)-(\d+|n)\.lua$/.exec(basename(path));
  if (!m) throw new Error(`script file name must be <name>-<numKeys or n>.lua: ${path}`);
  const dir = path.slice(0, path.length - basename(path).length);
  const includes: string[] = [];
  const INCLUDE = /^--@include (\S+)\s*$/gm;
  const text = readFileSync(path, 'utf8');
  const lua = text.replace(INCLUDE, (_l, f: string) => {
    const inc = readFileSync(dir + f, 'utf8');
    includes.push(inc);
    return inc;
  });
  const numberOfKeys = m[2] === 'n' ? null : Number(m[2]);
  return { name: m[1]!, numberOfKeys, lua, body: text.replace(INCLUDE, ''), includes };
}

const src = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const lua = (domainDir: string, files: string[]) =>
  files.map((f) => loadScript(join(src, domainDir, 'lua', f)));

/** Every script run with EVALSHA. (The caller-ID pick runs as a Redis Function: see functions.ts.) */
export const SCRIPTS: readonly ScriptDef[] = [
  ...lua('callerid', [
    'placeCid-3.lua',
    'placeCids-n.lua',
    'healthCid-5.lua',
    'takeUsage-3.lua',
    'placeFresh-n.lua',
    'promoteCid-3.lua',
    'rebuildCids-n.lua',
  ]),
  ...lua('routing', [
    'takeSlot-n.lua',
    'answerSlot-2.lua',
    'releaseSlot-n.lua',
    'takeTotals-3.lua',
    'restoreSlot-n.lua',
    'claimCall-2.lua',
    'saveCall-2.lua',
    'endCall-1.lua',
    'forgetCall-2.lua',
    'wakeHour-2.lua',
  ]),
  ...lua('console', ['recordFailure-1.lua', 'takeTotpStep-1.lua']),
  ...lua('platform/redis', ['releaseLock-1.lua', 'extendLock-1.lua']),
  ...lua('provisioning', ['takeTurn-1.lua']),
];

/** The caller-ID pick, run as a Redis Function (its library is built in callerid/store.ts). */
export const PICK_SCRIPT = loadScript(join(src, 'callerid', 'lua', 'pickCid-12.lua'));

type Arg = RedisKey | RedisValue;
// The reply of each script, as the Lua returns it (codes.ts decodes the codes). Arguments are KEYS
// then ARGV, flat, as ioredis passes them (a `-n` script: the count of KEYS first).
declare module 'ioredis' {
  interface RedisCommander<Context> {
    placeCid(...keysAndArgs: Arg[]): Result<number, Context>;
    placeCids(...keysAndArgs: Arg[]): Result<number, Context>;
    healthCid(...keysAndArgs: Arg[]): Result<number[], Context>;
    takeUsage(...keysAndArgs: Arg[]): Result<[number, string], Context>;
    placeFresh(...keysAndArgs: Arg[]): Result<number, Context>;
    promoteCid(...keysAndArgs: Arg[]): Result<[number, number], Context>;
    rebuildCids(...keysAndArgs: Arg[]): Result<[number, number], Context>;
    takeSlot(...keysAndArgs: Arg[]): Result<number, Context>;
    answerSlot(...keysAndArgs: Arg[]): Result<number, Context>;
    releaseSlot(...keysAndArgs: Arg[]): Result<number, Context>;
    takeTotals(...keysAndArgs: Arg[]): Result<number, Context>;
    restoreSlot(...keysAndArgs: Arg[]): Result<number, Context>;
    claimCall(...keysAndArgs: Arg[]): Result<[number, number], Context>;
    saveCall(...keysAndArgs: Arg[]): Result<number, Context>;
    endCall(...keysAndArgs: Arg[]): Result<number, Context>;
    forgetCall(...keysAndArgs: Arg[]): Result<number, Context>;
    wakeHour(...keysAndArgs: Arg[]): Result<number, Context>;
    releaseLock(...keysAndArgs: Arg[]): Result<number, Context>;
    extendLock(...keysAndArgs: Arg[]): Result<number, Context>;
    recordFailure(...keysAndArgs: Arg[]): Result<number, Context>;
    takeTotpStep(...keysAndArgs: Arg[]): Result<number, Context>;
    takeTurn(...keysAndArgs: Arg[]): Result<number, Context>;
  }
}

const registered = new WeakSet<Redis>();

/** Defines every script on this connection (once; later calls are free). */
export function registerScripts(redis: Redis): Redis {
  if (registered.has(redis)) return redis;
  for (const d of SCRIPTS)
    redis.defineCommand(
      d.name,
      d.numberOfKeys === null ? { lua: d.lua } : { numberOfKeys: d.numberOfKeys, lua: d.lua },
    );
  registered.add(redis);
  return redis;
}

/**
 * The connection, with the write of the command about to be made held until the event-loop turn
 * ends together with the turn's other writes (see net/cork.ts): one syscall for a burst of calls.
 */
export function corked(redis: Redis): Redis {
  corkUntilTurnEnds(redis.stream);
  return redis;
}

/** KEYS and ARGV of one script call, built by a pure function. */
export interface ScriptCall {
  keys: string[];
  args: (string | number)[];
}

/** Runs a pipeline and throws its first error (a pipeline answers errors per command). */
export async function execPipeline(pipe: ReturnType<Redis['pipeline']>): Promise<unknown[]> {
  const res = (await pipe.exec()) ?? [];
  return res.map(([err, r]) => {
    if (err) throw err;
    return r;
  });
}
