// CSV import of caller IDs: POST /v1/caller-ids/import (the body streamed, never buffered whole).
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { AppError } from '../../platform/http/errors.ts';
import { importOut, poolFilter, poolOf } from '../schemas.ts';
import type { CallerIdService } from '../service.ts';

export function importRoutes(service: CallerIdService) {
  return async function importCsv(fastify: FastifyInstance) {
    // The body reaches the handler as a stream: this scope's parsers hand it on untouched.
    fastify.addContentTypeParser(
      ['text/csv', 'text/plain', 'application/octet-stream'],
      (_req, payload, done) => done(null, payload),
    );
    fastify.withTypeProvider<ZodTypeProvider>().post(
      '/v1/caller-ids/import',
      {
        config: { auth: { roles: STAFF } },
        bodyLimit: 512 * 1024 * 1024,
        schema: { tags: ['caller-ids'], querystring: poolFilter, response: { 200: importOut } },
      },
      async (req) => {
        const body = req.body as Readable | undefined;
        if (!body || typeof body.pipe !== 'function')
          throw new AppError(
            'UNSUPPORTED_MEDIA_TYPE',
            'send the CSV as the body with Content-Type: text/csv',
          );
        return service.importCsv(body, poolOf(req.query) ?? null);
      },
    );
  };
}
