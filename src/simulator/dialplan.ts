// A small extensions.conf interpreter: the subset the sample dialplan and test calls need.
// Parsing is strict: an application we do not run is a load-time error, never a silent skip.
import { readFileSync } from 'node:fs';

export const APPLICATIONS = [
  'NoOp',
  'Goto',
  'GotoIf',
  'Answer',
  'Wait',
  'Echo',
  'Hangup',
  'Busy',
  'Congestion',
  'Set',
  'Dial',
  'Return',
  'Stasis',
  'StasisBroadcast',
] as const;
export type AppName = (typeof APPLICATIONS)[number];

export interface Step {
  priority: number;
  label?: string;
  app: AppName;
  data: string;
  line: number;
}

export interface Dialplan {
  globals: Record<string, string>;
  /** context -> extension pattern -> steps ordered by priority */
  contexts: Map<string, Map<string, Step[]>>;
  /** context -> extension pattern -> hint (`exten => 100,hint,PJSIP/a&PJSIP/b`: what follows `hint,`) */
  hints: Map<string, Map<string, string>>;
}

export class DialplanError extends Error {}

export function loadDialplan(path: string): Dialplan {
  return parseDialplan(readFileSync(path, 'utf8'), path);
}

export function parseDialplan(text: string, file = 'extensions.conf'): Dialplan {
  const dp: Dialplan = { globals: {}, contexts: new Map(), hints: new Map() };
  let ctx: string | null = null;
  let last: { exten: string; priority: number } | null = null;
  const lines = text.split(/\r?\n/);
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/(^|[^\\]);.*$/, '$1').trim();
    if (!line) continue;
    const where = `${file}:${i + 1}`;
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) {
      ctx = section[1]!.trim();
      last = null;
      if (ctx !== 'globals' && ctx !== 'general' && !dp.contexts.has(ctx)) dp.contexts.set(ctx, new Map());
      continue;
    }
    if (!ctx) throw new DialplanError(`${where}: line outside any [context]`);
    if (ctx === 'general') continue;
    if (ctx === 'globals') {
      const m = /^([\w]+)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new DialplanError(`${where}: expected NAME=value in [globals]`);
      dp.globals[m[1]!] = m[2]!;
      continue;
    }
    const m = /^(exten|same)\s*=>?\s*(.*)$/.exec(line);
    if (!m) throw new DialplanError(`${where}: expected "exten =>" or "same =>"`);
    let rest = m[2]!;
    let exten: string;
    if (m[1] === 'exten') {
      const comma = rest.indexOf(',');
      if (comma < 0) throw new DialplanError(`${where}: expected exten => pattern,priority,App(args)`);
      exten = rest.slice(0, comma).trim();
      rest = rest.slice(comma + 1);
    } else {
      if (!last) throw new DialplanError(`${where}: "same =>" without a preceding exten`);
      exten = last.exten;
    }
    // A hint (pbx_config: the rest of the line is the hint's "application", devices joined by `&`,
    // a presence provider after the last comma); it is no step of the extension.
    const hint = /^\s*hint\s*,(.*)$/.exec(rest);
    if (hint) {
      const hints = dp.hints.get(ctx) ?? new Map<string, string>();
      hints.set(exten, hint[1]!.trim());
      dp.hints.set(ctx, hints);
      continue;
    }
    const pm = /^\s*(\d+|n)(?:\(([\w-]+)\))?\s*,\s*(\w+)(?:\((.*)\))?\s*$/.exec(rest);
    if (!pm) throw new DialplanError(`${where}: expected priority,App(args)`);
    const priority: number = pm[1] === 'n' ? (last?.exten === exten ? last.priority + 1 : 1) : Number(pm[1]);
    const app = APPLICATIONS.find((a) => a.toLowerCase() === pm[3]!.toLowerCase());
    if (!app) throw new DialplanError(`${where}: application ${pm[3]} is not supported by the simulator`);
    const ext = dp.contexts.get(ctx)!;
    const steps = ext.get(exten) ?? [];
    steps.push({ priority, ...(pm[2] ? { label: pm[2] } : {}), app, data: pm[4] ?? '', line: i + 1 });
    steps.sort((a, b) => a.priority - b.priority);
    ext.set(exten, steps);
    last = { exten, priority };
  }
  return dp;
}

/** Asterisk extension pattern match (`_X.`, `_NXXNXXXXXX`, `_+X.`, `_stasis-.`, literal). */
export function matchExten(pattern: string, exten: string): boolean {
  if (!pattern.startsWith('_')) return pattern === exten;
  let re = '^';
  const p = pattern.slice(1);
  for (let i = 0; i < p.length; i++) {
    const ch = p[i]!;
    if (ch === 'X') re += '[0-9]';
    else if (ch === 'Z') re += '[1-9]';
    else if (ch === 'N') re += '[2-9]';
    else if (ch === '.') re += '.+';
    else if (ch === '!') re += '.*';
    else if (ch === '[') {
      const end = p.indexOf(']', i);
      re += `[${p.slice(i + 1, end).replace(/[\\^]/g, '\\\\$&')}]`;
      i = end;
    } else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(exten);
}

/** The steps for an extension: an exact match wins over patterns, as in Asterisk. */
export function findExtension(dp: Dialplan, context: string, exten: string): Step[] | null {
  const ctx = dp.contexts.get(context);
  if (!ctx) return null;
  if (ctx.has(exten)) return ctx.get(exten)!;
  for (const [pattern, steps] of ctx) if (matchExten(pattern, exten)) return steps;
  return null;
}

/** The hint of an extension (ast_hint_extension: an exact extension wins over a pattern), or null. */
export function findHint(dp: Dialplan, context: string, exten: string): string | null {
  const hints = dp.hints.get(context);
  if (!hints) return null;
  if (hints.has(exten)) return hints.get(exten)!;
  for (const [pattern, hint] of hints) if (matchExten(pattern, exten)) return hint;
  return null;
}

/** ${VAR}, ${VAR:offset}, ${CALLERID(num)} substitution from a variable lookup. */
export function substitute(s: string, get: (name: string) => string): string {
  return s.replace(
    /\$\{([A-Za-z_][\w()]*)(?::(-?\d+)(?::(\d+))?)?\}/g,
    (_m, name: string, off?: string, len?: string) => {
      let v = get(name);
      if (off !== undefined) v = v.slice(Number(off));
      if (len !== undefined) v = v.slice(0, Number(len));
      return v;
    },
  );
}

/** $[ "a" = "b" | "c" != "d" ] — the comparisons our sample uses. */
export function evalCondition(expr: string): boolean {
  const inner = expr.trim().replace(/^\$\[/, '').replace(/\]$/, '');
  return inner.split('|').some((or) =>
    or.split('&').every((term) => {
      const m = /^\s*"?([^"=!]*)"?\s*(!=|=)\s*"?([^"]*)"?\s*$/.exec(term);
      if (!m) return term.trim() !== '' && term.trim() !== '0';
      return m[2] === '=' ? m[1]!.trim() === m[3]!.trim() : m[1]!.trim() !== m[3]!.trim();
    }),
  );
}
