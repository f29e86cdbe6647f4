import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { KeyStore, KeyPrincipal } from '../../auth/keys.ts';
import type { Config } from '../../config.ts';
import type { Database } from '../db.ts';
import type { ApiRole } from '../../db/schema/auth.ts';
import type { Logger } from '../logger.ts';

/** A named readiness probe: resolves when healthy, throws (with a reason) when not. */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

/** What the API needs from the rest of the daemon; services are added by later modules. */
export interface AppDeps {
  config: Config;
  log: Logger;
  database: Database;
  redis: Redis;
  keys: KeyStore;
  metrics: Registry;
  readiness: ReadinessCheck[];
  // Resource plugins registered by domain modules (routing, callerid, pbx...).
  routes?: Array<import('fastify').FastifyPluginAsync>;
}

export interface RouteAuth {
  roles: readonly ApiRole[];
  /** Accept the key as `?key=` too (for Asterisk dialplans that can only do a GET with CURL()). */
  queryKey?: boolean;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: KeyPrincipal | null;
  }
  interface FastifyInstance {
    deps: AppDeps;
  }
}
