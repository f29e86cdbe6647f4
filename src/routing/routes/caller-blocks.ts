// /v1/caller-blocks: blocked caller numbers, a seller's own list and the global one (staff), and the
// CSV import of a list (a text/csv body or a multipart upload, streamed, never buffered whole).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { acceptCsvUploads, csvUpload } from '../../platform/http/csv-upload.ts';
import { idParams, page, pageBody } from '../../platform/http/paging.ts';
import { BLOCKLIST_IMPORT_MAX_BYTES } from '../blocklist-import.ts';
import {
  callerBlockBody,
  callerBlockImportQuery,
  callerBlocksQuery,
  toCallerBlock,
  toE164,
} from '../schemas.ts';
import { callerBlockDoc, callerBlockImportDoc } from '../examples.ts';
import type { RoutingService } from '../service.ts';
import { withExample } from '../../platform/http/examples.ts';

export function callerBlockRoutes(svc: RoutingService) {
  return async function callerBlocks(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    const config = { auth: { roles: STAFF_OR_SELLER } };
    const tags = ['caller-blocks'];

    app.get(
      '/v1/caller-blocks',
      {
        config,
        schema: {
          summary: 'List blocked callers and prefixes, paged',
          tags,
          querystring: callerBlocksQuery,
          response: { 200: page(callerBlockDoc) },
        },
      },
      async (req) => {
        const { limit, offset, seller_id, number } = req.query;
        const n = number ? (toE164(number) ?? number) : undefined;
        const r = await svc.listCallerBlocks({ limit, offset, sellerId: seller_id, number: n }, scopeOf(req));
        return pageBody(req.query, r, toCallerBlock);
      },
    );
    app.post(
      '/v1/caller-blocks',
      {
        config,
        schema: {
          summary: 'Block a caller number or prefix',
          tags,
          body: withExample(callerBlockBody, {
            number: '+12125550199',
            seller_id: '3f6d2a4e-8c1b-4e7a-9f2d-5b6c7d8e9f01',
            note: 'abusive caller',
          }),
          response: { 201: callerBlockDoc },
        },
      },
      async (req, reply) =>
        reply.status(201).send(toCallerBlock(await svc.addCallerBlock(req.body, scopeOf(req)))),
    );
    app.delete(
      '/v1/caller-blocks/:id',
      { config, schema: { summary: 'Unblock', tags, params: idParams, response: { 204: z.null() } } },
      async (req, reply) => {
        await svc.removeCallerBlock(req.params.id, scopeOf(req));
        return reply.status(204).send(null);
      },
    );

    // The import's scope takes the CSV as a stream, a raw text/csv body or a multipart upload's file
    // part (the other routes keep the JSON parser); any other content type is refused unread.
    await app.register(async (scoped) => {
      await acceptCsvUploads(scoped, BLOCKLIST_IMPORT_MAX_BYTES);
      scoped.withTypeProvider<ZodTypeProvider>().post(
        '/v1/caller-blocks/import',
        {
          config,
          bodyLimit: BLOCKLIST_IMPORT_MAX_BYTES,
          schema: {
            tags,
            consumes: ['text/csv', 'multipart/form-data'],
            summary: 'Import blocked callers from CSV (bad lines listed, the rest imported)',
            querystring: callerBlockImportQuery,
            response: { 200: callerBlockImportDoc },
          },
        },
        async (req) =>
          svc.importCallerBlocks(
            await csvUpload(req, BLOCKLIST_IMPORT_MAX_BYTES),
            req.query.seller_id,
            scopeOf(req),
          ),
      );
    });
  };
}
