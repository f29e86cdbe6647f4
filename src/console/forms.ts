// Form fields (always strings in a url-encoded body) turned into the JSON shapes the API's zod
// schemas take, so the console validates with exactly the API's schemas. An empty optional field
// means "not given", an empty nullable one means "none" (no cap, no time zone).
import { AppError } from '../platform/http/errors.ts';
import type { z } from 'zod';

export type FieldKind =
  | 'text'
  | 'optText'
  | 'textOrNull'
  | 'int'
  | 'intOrNull'
  | 'optNum'
  | 'list'
  | 'listOrNull'
  | 'bool'
  | 'optUuid'
  | 'uuidOrNull';

export function fromForm(body: unknown, spec: Record<string, FieldKind>): Record<string, unknown> {
  const f = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, kind] of Object.entries(spec)) {
    const raw = f[k];
    const v = typeof raw === 'string' ? raw.trim() : undefined;
    switch (kind) {
      case 'text':
        out[k] = v ?? '';
        break;
      case 'optText':
      case 'optUuid':
        if (v) out[k] = v;
        break;
      case 'textOrNull':
      case 'uuidOrNull':
        out[k] = v ? v : null;
        break;
      case 'int':
        if (v) out[k] = /^-?\d+$/.test(v) ? Number(v) : v;
        break;
      case 'intOrNull':
        out[k] = v ? (/^-?\d+$/.test(v) ? Number(v) : v) : null;
        break;
      case 'optNum':
        if (v) out[k] = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
        break;
      case 'list':
        // "a, b c" -> ["a", "b", "c"]; nothing given: not given.
        if (v)
          out[k] = v
            .split(/[\s,]+/)
            .map((x) => x.trim())
            .filter(Boolean);
        break;
      case 'listOrNull':
        // The same list; nothing given: none (null), which clears it.
        out[k] = v
          ? v
              .split(/[\s,]+/)
              .map((x) => x.trim())
              .filter(Boolean)
          : null;
        break;
      case 'bool':
        out[k] = raw === 'on' || raw === 'true';
        break;
    }
  }
  return out;
}

/** Parses with an API schema; a failure is the API's VALIDATION_FAILED with the same details. */
export function validate<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  throw new AppError(
    'VALIDATION_FAILED',
    r.error.issues.map((i) => `${i.path.join('.') || 'form'}: ${i.message}`).join('; '),
    r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
  );
}

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
export const dayName = (d: number) => DAYS[d]!;

/** `schedule_0`..`schedule_6` ("09:00-12:00, 13:00-17:00") as a weekly schedule; none filled: null. */
export function scheduleFromForm(body: unknown): Record<string, Array<[string, string]>> | null {
  const f = (body ?? {}) as Record<string, unknown>;
  const out: Record<string, Array<[string, string]>> = {};
  for (let d = 0; d < 7; d++) {
    const raw = f[`schedule_${d}`];
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (!text) continue;
    out[String(d)] = text.split(',').map((part) => {
      const [from, to] = part.split('-').map((x) => x.trim());
      return [from ?? '', to ?? ''] as [string, string];
    });
  }
  return Object.keys(out).length ? out : null;
}

export const scheduleText = (ranges: Array<[string, string]> | undefined) =>
  (ranges ?? []).map(([a, b]) => `${a}-${b}`).join(', ');
