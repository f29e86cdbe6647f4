// What the console's routes work with: its own user, session and lockout stores, and the services
// of the domains whose pages it shows (the same ones the API's routes call).
import type { Redis } from 'ioredis';
import type { Config } from '../config.ts';
import type { Database } from '../platform/db.ts';
import type { Logger } from '../platform/logger.ts';
import type { RedisKeys } from '../platform/redis/keys.ts';
import type { Lockout } from './lockout.ts';
import type { SessionStore } from './sessions.ts';
import type { ConsoleUsers } from './users.ts';

export interface ConsoleServices {
  config: Config;
  log: Logger;
  database: Database;
  redis: Redis;
  keys: RedisKeys;
  users: ConsoleUsers;
  sessions: SessionStore;
  lockout: Lockout;
}
