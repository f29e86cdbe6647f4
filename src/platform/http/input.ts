// Checks every request input gets in one place, before any route sees it: how deep a JSON body may
// nest, which characters text may hold, what a timestamp and a query-string boolean are.
import { z } from 'zod';
import { isIanaZone } from '../../time/zone.ts';
import { AppError } from './errors.ts';

/** The default request body limit. Routes that take more (the CSV import) stream with their own. */
export const BODY_LIMIT = 1024 * 1024;
/** Routes without an API key (sign-in forms) read at most this much before anyone is known. */
export const UNAUTHENTICATED_BODY_LIMIT = 16 * 1024;
/** No API body nests deeper than a handful of levels; 32 leaves room and bounds every walk. */
export const MAX_JSON_DEPTH = 32;

/**
 * True when the JSON text nests arrays/objects deeper than `max`. One pass over the characters,
 * before JSON.parse, so a deeply nested body costs a scan and never a parse or a recursive walk.
 */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/**
 * Parses a JSON request body, refusing too deep nesting before parsing. An empty body is no body
 * (a DELETE sent with a JSON content type); a route that needs one says so in its schema.
 */
export function parseJsonBody(text: string): unknown {
  if (text.length === 0) return undefined;
  if (jsonTooDeep(text))
    throw new AppError('JSON_TOO_DEEP', `JSON body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError('INVALID_JSON', `body is not valid JSON: ${(e as Error).message.slice(0, 200)}`);
  }
}

// NUL cannot be stored in PostgreSQL text or jsonb; a lone UTF-16 surrogate cannot be encoded as
// UTF-8 at all. Either reaching the database is an error there, so both are refused at the door.
const BAD_TEXT = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const badText = (s: string): boolean => BAD_TEXT.test(s);

// Parsed JSON, query strings and params are walked; a stream (the CSV import) or a buffer is not.
const isOpaque = (v: object): boolean =>
  Buffer.isBuffer(v) || typeof (v as { pipe?: unknown }).pipe === 'function';

/**
 * Walks a parsed input (body, query or params) and throws INVALID_TEXT naming the first string
 * or key holding NUL or a lone surrogate.
 * `__proto__` keys are refused too: an object merged from one would change its prototype.
 */
export function assertCleanInput(v: unknown, where: string): void {
  const path: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x === 'string') {
      if (badText(x))
        throw new AppError('INVALID_TEXT', `${where} text holds a NUL character or a lone surrogate`, [
          { path: path.join('.') || where, message: 'NUL characters and lone surrogates are refused' },
        ]);
      return;
    }
    if (typeof x !== 'object' || x === null) return;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        path.push(String(i));
        walk(x[i]);
        path.pop();
      }
      return;
    }
    if (isOpaque(x)) return;
    for (const k of Object.keys(x)) {
      path.push(k);
      if (k === '__proto__') throw new AppError('INVALID_JSON', 'the key __proto__ is refused');
      walk(k);
      walk((x as Record<string, unknown>)[k]);
      path.pop();
    }
  };
  walk(v);
}

/** True for an instant PostgreSQL and every client can hold: years 0001 to 9999. */
export function validInstant(d: Date): boolean {
  const t = d.getTime();
  if (!Number.isFinite(t)) return false;
  const y = d.getUTCFullYear();
  return y >= 1 && y <= 9999;
}

/**
 * The one timestamp an API input may carry: ISO 8601 with an offset, years 0001-9999 (year 0000
 * and negative years exist in JavaScript but not in PostgreSQL).
 */
export const timestamp = z.iso
  .datetime({ offset: true })
  .refine((s) => validInstant(new Date(s)), 'timestamp out of range (years 0001-9999)');

/**
 * A boolean in a query string: exactly true/1 or false/0 (any case). A plain coercion would read
 * every non-empty string, "false" included, as true.
 */
export const queryBool = z.stringbool({ truthy: ['true', '1'], falsy: ['false', '0'] });

/** For a PATCH body: at least one field must change. */
export const changesSomething = (b: unknown): boolean =>
  typeof b !== 'object' || b === null || Object.values(b).some((v) => v !== undefined);

/** A zone name as `isIanaZone` (time/zone.ts) takes it: the one test every zone input passes. */
export const ianaZone = z.string().max(64).refine(isIanaZone, 'unknown IANA time zone');
