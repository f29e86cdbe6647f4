// AMI session event filters (the Filter action), as manager.c's manager_add_filter parses them and
// should_send_event / filter_cmp_fn apply them: legacy filters (a POSIX regex over the whole event
// text, `!` first for an exclude) and Asterisk 22's advanced ones (`MatchCriteria`: action, name,
// header, method).
import { posixRegex } from './protocol.ts';

type Method = 'regex' | 'exact' | 'starts_with' | 'ends_with' | 'contains' | 'none';

export interface EventFilter {
  exclude: boolean;
  /** Only events of this name (the `Event` header, compared with case). */
  eventName?: string;
  /** Only this header's values (`Name:`), each line that starts with it, blanks after it skipped. */
  header?: string;
  method: Method;
  regex?: RegExp;
  text?: string;
}

export type FilterError = 'format' | 'compile';

const METHODS = new Set<string>(['regex', 'exact', 'starts_with', 'ends_with', 'contains', 'none']);

/**
 * A filter from the Filter action's `MatchCriteria` (empty: a legacy filter) and `Filter`, or
 * the error manager.c answers: `format` (FILTER_FORMAT_ERROR) or `compile` (a regex that does
 * not compile). The criteria's options are read as manager_add_filter reads them: split at blanks,
 * commas and closing parentheses, each recognised by its first letters.
 */
export function parseFilter(matchCriteria: string, pattern: string): EventFilter | FilterError {
  let p = pattern;
  const f: EventFilter = { exclude: false, method: 'regex' };
  if (p.startsWith('!')) {
    f.exclude = true;
    p = p.slice(1);
  }
  if (!matchCriteria) {
    if (p === '') return 'format';
  } else {
    f.method = 'none';
    const options = `${matchCriteria})`.trim();
    let found = false;
    for (const option of options.split(/[ ,)]+/).filter(Boolean)) {
      const open = option.indexOf('(');
      const value = open < 0 ? null : option.slice(open + 1).trim();
      if (option.startsWith('action')) {
        if (!value) return 'format';
        if (value === 'include') f.exclude = false;
        else if (value === 'exclude') f.exclude = true;
        else return 'format';
      } else if (option.startsWith('name')) {
        if (!value) return 'format';
        f.eventName = value;
      } else if (option.startsWith('header')) {
        if (!value) return 'format';
        f.header = value.endsWith(':') ? value : `${value}:`;
      } else if (option.startsWith('method')) {
        if (!value || !METHODS.has(value)) return 'format';
        f.method = value as Method;
      } else return 'format';
      found = true;
    }
    if (!found) return 'format';
    if (p === '' && f.method !== 'none') return 'format';
    if (p !== '' && f.method === 'none') return 'format';
    if (!f.eventName && !f.header && f.method === 'none') return 'format';
  }
  if (p !== '') {
    if (f.method === 'regex') {
      try {
        f.regex = posixRegex(p);
      } catch {
        return 'compile';
      }
    } else f.text = p;
  }
  return f;
}

function matchData(f: EventFilter, data: string): boolean {
  switch (f.method) {
    case 'regex':
      return f.regex!.test(data);
    case 'starts_with':
      return data.startsWith(f.text!);
    case 'ends_with':
      return data.endsWith(f.text!);
    case 'contains':
      return data.includes(f.text!);
    case 'exact':
      return data === f.text;
    case 'none':
      return true;
  }
}

/** filter_cmp_fn: the event's name, then the whole text or each line of the header. */
function matches(f: EventFilter, name: string, text: string): boolean {
  if (f.eventName !== undefined && f.eventName !== name) return false;
  if (f.header === undefined) return matchData(f, text);
  for (const line of text.split('\r\n')) {
    if (!line.startsWith(f.header)) continue;
    const value = line.slice(f.header.length).replace(/^[ \t]+/, '');
    if (value !== '' && matchData(f, value)) return true;
  }
  return false;
}

/**
 * should_send_event: no filters, every event; include filters only, an event must match one;
 * exclude filters only, it must match none; both, it must match an include and no exclude.
 */
export function passes(
  filters: { include: EventFilter[]; exclude: EventFilter[] } | undefined,
  text: string,
): boolean {
  if (!filters) return true;
  const name = /^Event: ([^\r]*)\r\n/.exec(text)?.[1] ?? '';
  if (filters.include.length && !filters.include.some((f) => matches(f, name, text))) return false;
  return !filters.exclude.some((f) => matches(f, name, text));
}
