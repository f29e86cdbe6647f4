import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReadinessCheck } from '../context.ts';
import { withResponseExample } from '../examples.ts';

const readyBody = z.object({
  status: z.enum(['ready', 'degraded', 'not_ready']),
  /** Failing checks that do not stop the instance from working (an AMI link down, a node shedding calls). */
  degraded: z.array(z.string()),
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
        response: {
          200: withResponseExample(z.object({ status: z.literal('ok') }), { status: 'ok' as const }),
        },
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
        response: {
          200: withResponseExample(readyBody, {
            status: 'degraded' as const,
            degraded: ['asterisk:asterisk-2:ami'],
            checks: {
              postgres: { ok: true },
              redis: { ok: true },
              'asterisk:asterisk-1': { ok: true },
              'asterisk:asterisk-2:ami': { ok: false, error: 'AMI not connected' },
            },
          }),
          503: readyBody,
        },
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
      const status = readiness(app.deps.readiness, (name) => checks[name]?.ok ?? false);
      return reply.status(status.status === 'not_ready' ? 503 : 200).send({ ...status, checks });
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

/** not_ready when a critical check fails or every check of a group does; degraded when anything else fails. */
export function readiness(
  checks: ReadinessCheck[],
  ok: (name: string) => boolean,
): { status: 'ready' | 'degraded' | 'not_ready'; degraded: string[] } {
  const groups = new Map<string, boolean>();
  for (const c of checks) if (c.group) groups.set(c.group, (groups.get(c.group) ?? false) || ok(c.name));
  let fatal = [...groups.values()].some((anyOk) => !anyOk);
  const degraded: string[] = [];
  for (const c of checks) {
    if (ok(c.name)) continue;
    if (c.group) degraded.push(c.name);
    else if (c.critical === false) degraded.push(c.name);
    else fatal = true;
  }
  return { status: fatal ? 'not_ready' : degraded.length ? 'degraded' : 'ready', degraded };
}
