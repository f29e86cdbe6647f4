// GET /v1/audit: the audit trail of routing resources, newest first (or by `sort`), filtered by
// resource, actor and period, paged like every list. Admin and staff only.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { auditFilterOf, auditQuery, toAudit } from '../schemas.ts';
import { auditDoc } from '../examples.ts';
import type { AuditService } from '../service.ts';

export function auditRoutes(svc: AuditService) {
  return async function audit(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/audit',
      {
        config: { auth: { roles: STAFF } },
        schema: {
          summary: 'Audit log of routing changes: who changed what, before and after',
          tags: ['audit'],
          querystring: auditQuery,
          response: { 200: page(auditDoc) },
        },
      },
      async (req) => {
        const q = req.query;
        return pageBody(q, await svc.list(auditFilterOf(q, orderFrom(q))), toAudit);
      },
    );
  };
}
