// /v1/calls: call records with filters, cursor pagination and CSV export. Sellers see only their own.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { AppError } from '../../platform/http/errors.ts';
import { validInstant } from '../../platform/http/input.ts';
import type { CallRecordRow } from '../repository.ts';
import { callsQuery, toCallRecord } from '../schemas.ts';
import { callRecordDoc } from '../examples.ts';
import { CallsService, callsCsv } from '../service.ts';

// Keyset pagination over (started_at, call_id), newest first: stable while calls keep arriving.
const encodeCursor = (r: CallRecordRow) =>
  Buffer.from(`${r.startedAt.toISOString()}|${r.callId}`).toString('base64url');
function decodeCursor(c: string): { at: Date; id: string } {
  const [at, id] = Buffer.from(c, 'base64url').toString().split('|');
  const d = new Date(at ?? '');
  if (!id || !validInstant(d))
    throw new AppError('VALIDATION_FAILED', 'invalid cursor', [{ path: 'cursor', message: 'invalid' }]);
  return { at: d, id };
}

export default async function callRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const calls = new CallsService(app.deps.database.db);

  app.get(
    '/v1/calls',
    {
      config: { auth: { roles: STAFF_OR_SELLER } },
      schema: {
        summary: 'Call detail records with attempts, filtered and paged (CSV with format=csv)',
        tags: ['calls'],
        querystring: callsQuery,
        response: { 200: z.object({ items: z.array(callRecordDoc), next_cursor: z.string().nullable() }) },
      },
    },
    async (req, reply) => {
      const q = req.query;
      const rows = await calls.list({
        sellerId: scopeOf(req),
        from: q.from ? new Date(q.from) : undefined,
        to: q.to ? new Date(q.to) : undefined,
        campaignId: q.campaign_id,
        clientId: q.client_id,
        did: q.did,
        caller: q.caller,
        disposition: q.disposition,
        before: q.cursor ? decodeCursor(q.cursor) : undefined,
        // One more than asked for: whether it comes back says if there is a next page.
        limit: q.limit + 1,
      });
      const more = rows.length > q.limit;
      const page = rows.slice(0, q.limit);
      const next = more ? encodeCursor(page[page.length - 1]!) : null;
      const staff = !scopeOf(req);
      if (q.format === 'csv') {
        if (next) reply.header('x-next-cursor', next);
        return (reply as FastifyReply)
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="calls.csv"')
          .send(callsCsv(page, staff));
      }
      return { items: page.map((r) => toCallRecord(r, staff)), next_cursor: next };
    },
  );
}
