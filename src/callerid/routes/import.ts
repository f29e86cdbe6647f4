// CSV import of caller IDs: POST /v1/caller-ids/import (a text/csv body or a multipart upload, streamed,
// never buffered whole).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { acceptCsvUploads, csvUpload } from '../../platform/http/csv-upload.ts';
import { importDoc } from '../examples.ts';
import { poolFilter, poolOf } from '../schemas.ts';
import type { CallerIdService } from '../service.ts';

/** The largest CSV file an import takes (a raw body or an uploaded file). */
export const CALLER_ID_IMPORT_MAX_BYTES = 512 * 1024 * 1024;

export function importRoutes(service: CallerIdService) {
  return async function importCsv(fastify: FastifyInstance) {
    // The CSV reaches the handler as a stream, a raw text/csv body or a multipart upload's file part;
    // any other content type is refused before a byte of it is read.
    await acceptCsvUploads(fastify, CALLER_ID_IMPORT_MAX_BYTES);
    fastify.withTypeProvider<ZodTypeProvider>().post(
      '/v1/caller-ids/import',
      {
        config: { auth: { roles: STAFF } },
        bodyLimit: CALLER_ID_IMPORT_MAX_BYTES,
        schema: {
          tags: ['caller-ids'],
          consumes: ['text/csv', 'multipart/form-data'],
          summary: 'Import caller-ID numbers from CSV (bad lines listed, the rest imported)',
          querystring: poolFilter,
          response: { 200: importDoc },
        },
      },
      async (req) =>
        service.importCsv(await csvUpload(req, CALLER_ID_IMPORT_MAX_BYTES), poolOf(req.query) ?? null),
    );
  };
}
