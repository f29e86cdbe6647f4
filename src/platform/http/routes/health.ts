import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

const readyBody = z.object({
  status: z.enum(['ready', 'not_ready']),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

export default async function healthRoutes(fastify: FastifyInstance) {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  app.get(
    '/health',
    {
      schema: {
        tags: ['ops'],
        summary: 'Liveness: the process answers',
        response: { 200: z.object({ status: z.literal('ok') }) },
      },
      logLevel: 'warn',
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    {
      schema: {
        tags: ['ops'],
        summary: 'Readiness: PostgreSQL, Redis and each Asterisk node',
        response: { 200: readyBody, 503: readyBody },
      },
      logLevel: 'warn',
    },
    async (_req, reply) => {
      const results = await Promise.all(
        app.deps.readiness.map(async (c) => {
          try {
            await withTimeout(c.check(), 2000);
            return [c.name, { ok: true }] as const;
          } catch (e) {
            return [c.name, { ok: false, error: e instanceof Error ? e.message : String(e) }] as const;
          }
        }),
      );
      const checks = Object.fromEntries(results);
      const ok = results.every(([, r]) => r.ok);
      return reply.status(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks });
    },
  );

  app.get(
    '/metrics',
    { schema: { tags: ['ops'], summary: 'Prometheus metrics', produces: ['text/plain'] }, logLevel: 'warn' },
    async (_req, reply) => {
      reply.header('content-type', app.deps.metrics.contentType);
      return app.deps.metrics.metrics();
    },
  );
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
