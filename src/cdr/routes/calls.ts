// /v1/calls: call records with filters, cursor pagination and CSV export, and a call's recording
// streamed from the Asterisk node that holds it. Sellers see only their own.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import type { AsteriskModule } from '../../asterisk/index.ts';
import { AppError, notFound } from '../../platform/http/errors.ts';
import { validInstant } from '../../platform/http/input.ts';
import type { CallRecordRow } from '../repository.ts';
import { callsQuery, toCallRecord } from '../schemas.ts';
import { callRecordDoc } from '../examples.ts';
import { sendRecording } from '../recording.ts';
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

/** The routes, with the Asterisk nodes recordings are fetched from (none configured: every recording 503). */
export function callRoutes(asterisk: () => AsteriskModule | undefined) {
  return async function calls(fastify: FastifyInstance) {
    await callRecordRoutes(fastify, asterisk);
  };
}

async function callRecordRoutes(fastify: FastifyInstance, asterisk: () => AsteriskModule | undefined) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const calls = new CallsService(app.deps.database.db);

  app.get(
    '/v1/calls/:id/recording',
    {
      config: { auth: { roles: STAFF_OR_SELLER } },
      schema: {
        tags: ['calls'],
        summary:
          "A call's recording (audio/wav), streamed from the Asterisk node that recorded it; a byte Range is answered 206",
        params: z.object({ id: z.string().min(1).max(200) }),
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      const row = await calls.get(id, scopeOf(req));
      if (!row) throw notFound('call', id);
      return sendRecording(req, reply, row, asterisk());
    },
  );

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
