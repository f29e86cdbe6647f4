// Examples for the OpenAPI document, typed against the schema they illustrate: tsc refuses an
// example whose shape the schema does not accept, and a test sends every request example to its
// route and fails if the route refuses it as malformed. So an example cannot drift from the API.
import type { z } from 'zod';

/** `schema` with `example` shown in /docs as the request a client would send. */
export function withExample<T extends z.ZodType>(schema: T, example: z.input<T>): T {
  return schema.meta({ example }) as T;
}

/** `schema` with `example` shown in /docs as what the route answers. */
export function withResponseExample<T extends z.ZodType>(schema: T, example: z.output<T>): T {
  return schema.meta({ example }) as T;
}
