// The `routing` daemon module: the resources calls are routed by (sellers, clients, campaigns, DIDs,
// links) and the Redis slot store that enforces link caps.
import type { DaemonContext, DaemonModule } from '../main.ts';
import { RedisKeys } from '../redis/keys.ts';
import campaignRoutes from './api/campaigns.ts';
import clientRoutes from './api/clients.ts';
import didRoutes from './api/dids.ts';
import linkRoutes from './api/links.ts';
import sellerRoutes from './api/sellers.ts';
import { SlotStore } from './slots.ts';

export interface RoutingModule extends DaemonModule {
  name: 'routing';
  slots: SlotStore;
}

export function createRoutingModule(ctx: DaemonContext): RoutingModule {
  const slots = new SlotStore(
    ctx.redis,
    new RedisKeys(ctx.config.REDIS_KEY_PREFIX),
    ctx.config.SLOT_TTL_S * 1000,
  );
  return {
    name: 'routing',
    slots,
    routes: [sellerRoutes, clientRoutes, campaignRoutes, didRoutes, linkRoutes],
  };
}
