// GET /v1/reports/calls: call totals over a period grouped by one dimension, JSON or CSV. A seller's
// key sees its own calls only, and not the operator's revenue, cost or margin.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import { reportQuery } from '../schemas.ts';
import { reportDoc } from '../examples.ts';
import { type ReportsService, reportCsv } from '../service.ts';

export function reportRoutes(svc: ReportsService) {
  return async function reports(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/reports/calls',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: {
          summary:
            'Call totals and money grouped by campaign, seller, client, DID, link, hour or day, in any time zone',
          tags: ['reports'],
          querystring: reportQuery,
          response: { 200: reportDoc },
        },
      },
      async (req, reply) => {
        const r = await svc.calls(req.query, scopeOf(req));
        if (req.query.format === 'csv')
          return (reply as FastifyReply)
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="calls-by-${r.group_by}.csv"`)
            .send(reportCsv(r));
        return r;
      },
    );
  };
}
