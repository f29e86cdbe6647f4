// CSV import of caller IDs: POST /v1/caller-ids/import (the body streamed, never buffered whole).
import type { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { AppError } from '../../platform/http/errors.ts';
import { poolFilter, poolOf } from '../schemas.ts';
import { importDoc } from '../examples.ts';
import type { CallerIdService } from '../service.ts';

export function importRoutes(service: CallerIdService) {
  return async function importCsv(fastify: FastifyInstance) {
    // The body reaches the handler as a stream: this scope's parsers hand it on untouched. Any other
    // content type (JSON, a form) is refused before a byte of it is read, with the one it wants.
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      ['text/csv', 'text/plain', 'application/octet-stream'],
      (_req, payload, done) => done(null, payload),
    );
    fastify.addContentTypeParser('*', (req, _payload, done) =>
      done(
        new AppError(
          'UNSUPPORTED_MEDIA_TYPE',
          `send the CSV file as the request body with Content-Type: text/csv (got ${String(req.headers['content-type']).split(';')[0]})`,
        ),
        undefined,
      ),
    );
    fastify.withTypeProvider<ZodTypeProvider>().post(
      '/v1/caller-ids/import',
      {
        config: { auth: { roles: STAFF } },
        bodyLimit: 512 * 1024 * 1024,
        schema: {
          tags: ['caller-ids'],
          summary: 'Import caller-ID numbers from CSV (bad lines listed, the rest imported)',
          querystring: poolFilter,
          response: { 200: importDoc },
        },
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
