// /v1/pbx/audit: the provisioning audit trail, newest first, with filters.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { orderFrom, page, pageBody } from '../../platform/http/paging.ts';
import { auditQuery, toAudit } from '../schemas.ts';
import { pbxAuditDoc } from '../examples.ts';
import type { PbxAudit } from '../service/audit.ts';

export function auditRoutes(svc: PbxAudit) {
  return async function audit(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/pbx/audit',
      {
        config: { auth: { roles: STAFF } },
        schema: {
          summary: 'Audit log of PBX changes, including refused ones',
          tags: ['pbx'],
          querystring: auditQuery,
          response: { 200: page(pbxAuditDoc) },
        },
      },
      async (req) => {
        const q = req.query;
        const r = await svc.list({
          ...q,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
          order: orderFrom(q),
        });
        return pageBody(q, r, toAudit);
      },
    );
  };
}
