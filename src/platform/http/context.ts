import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { KeyStore, KeyPrincipal } from '../../auth/keys.ts';
import type { Config } from '../../config.ts';
import type { Actor } from '../audit.ts';
import type { Database } from '../db.ts';
import type { ApiRole } from '../../db/schema/auth.ts';
import type { Logger } from '../logger.ts';

/**
 * A named readiness probe: resolves when healthy, throws (with a reason) when not.
 * A failing check makes /ready answer 503 (a load balancer then takes the instance away, /next-cid
 * included) only when the instance cannot do its work: a critical check (PostgreSQL, Redis), or every
 * check of a `group` (every Asterisk node unusable). The others only degrade: /ready answers 200 and
 * names them.
 */
export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
  /** Default true. False: a failure is reported as degraded, never 503. */
  critical?: boolean;
  /** Checks sharing a group fail the instance only when all of them fail. */
  group?: string;
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
    /** Who the audit trail names for this request's changes (null: none, recorded as system). */
    actor: Actor | null;
  }
  interface FastifyInstance {
    deps: AppDeps;
  }
}
