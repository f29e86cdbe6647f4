// /v1/calls/live: calls in progress on this instance, and the usage of every link, seller, DID and
// buyer group against its caps.
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { STAFF_OR_SELLER, scopeOf } from '../../platform/http/auth.ts';
import type { InboundRouter } from '../router.ts';
import type { RoutingService } from '../service.ts';
import type { SlotStore } from '../slots.ts';
import { ownersUsage } from '../usage.ts';

/**
 * `now` is the routing clock the router counts calls by (tests move it): usage is read in the same
 * hour/day/month buckets the takes were counted in.
 */
export function liveRoutes(
  svc: RoutingService,
  router: () => InboundRouter | null,
  slots: () => SlotStore,
  now: () => number,
) {
  return async function live(fastify: FastifyInstance) {
    const app = fastify.withTypeProvider<ZodTypeProvider>();
    app.get(
      '/v1/calls/live',
      {
        config: { auth: { roles: STAFF_OR_SELLER } },
        schema: { tags: ['calls'], summary: 'Calls in progress on this instance' },
      },
      async (req) => {
        const scope = scopeOf(req);
        const calls = (router()?.live() ?? []).filter((c) => !scope || c.seller_id === scope);
        const tz = app.deps.config.DEFAULT_TIMEZONE;
        const at = new Date(now());
        const [links, owners] = await Promise.all([
          svc.linkUsage(scope, slots(), tz, at),
          svc.cappedOwners(scope).then((o) => ownersUsage(o, slots(), tz, at)),
        ]);
        return { calls, links, ...owners };
      },
    );
  };
}
