// What a domain module is to the daemon: built from the shared context, started in order, stopped
// in reverse. Here rather than in main.ts so that domains import downhill, never the entry point.
import type { FastifyPluginAsync } from 'fastify';
import type { Redis } from 'ioredis';
import type { Registry } from 'prom-client';
import type { Config } from '../config.ts';
import type { Database } from './db.ts';
import type { ReadinessCheck } from './http/context.ts';
import type { Logger } from './logger.ts';

/** What every domain module receives. */
export interface DaemonContext {
  config: Config;
  log: Logger;
  database: Database;
  redis: Redis;
  metrics: Registry;
  /** Modules started earlier, by name, for modules that depend on them (routing needs asterisk). */
  modules: Map<string, DaemonModule>;
}

/** A domain module: its routes and readiness checks, and its own start/stop. */
export interface DaemonModule {
  name: string;
  routes?: FastifyPluginAsync[];
  readiness?: ReadinessCheck[];
  start?(): Promise<void>;
  stop?(): Promise<void>;
}

export type ModuleFactory = (ctx: DaemonContext) => DaemonModule | Promise<DaemonModule>;

/** A start-up failure with a message meant for the operator (no stack trace needed). */
export class StartupError extends Error {}
