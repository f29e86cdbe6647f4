// /v1/pbx/apply: make every Asterisk node pick up the provisioned rows, and report what it sees.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF } from '../../platform/http/auth.ts';
import { applyBody } from '../schemas.ts';
import { applyDoc } from '../examples.ts';
import type { ApplyService } from '../service/apply.ts';
import { actor } from './actor.ts';
import { withExample } from '../../platform/http/examples.ts';

export function applyRoutes(svc: ApplyService) {
  return async function apply(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.post(
      '/v1/pbx/apply',
      {
        config: { auth: { roles: STAFF } },
        schema: {
          summary: 'Make every Asterisk node reload PJSIP realtime; the result per node',
          tags: ['pbx'],
          body: withExample(applyBody, { triggered_by: 'ops: new client endpoints' }),
          response: { 200: applyDoc },
        },
      },
      async (req) => svc.apply(actor(req), req.body.triggered_by),
    );
  };
}
