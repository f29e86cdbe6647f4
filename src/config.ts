// The only module that reads process.env. Everything else receives a typed Config.
// Why one file of about 450 lines: every setting, its default and its check stand in the one zod
// schema below, and the daemon, the tools and the Asterisk node list are parsed from that schema
// (or a pick of it); split up, a default could differ between two readers of the same variable.
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { isIanaZone } from './time/zone.ts';

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// A PostgreSQL table name, optionally schema-qualified (it is quoted as an identifier when read).
const cdrTable = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/, 'a table name');

const asteriskNode = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'node id: letters, digits, _ . - (max 64)'),
  ariUrl: z.url(),
  ariUser: z.string().min(1),
  ariPassword: z.string().min(1),
  amiHost: z.string().min(1).default('127.0.0.1'),
  amiPort: z.coerce.number().int().min(1).max(65535).default(5038),
  amiUser: z.string().min(1),
  amiSecret: z.string().min(1),
  // The table the node's cdr_pgsql writes its CDRs into (asterisk/cdr_pgsql.conf), read back for the
  // callers that entered our app while no instance watched them. Absent: not read for this node.
  cdrTable: cdrTable.optional(),
});
export type AsteriskNodeConfig = z.infer<typeof asteriskNode>;

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: z.url({ message: 'must be a postgres:// URL' }).refine((u) => /^postgres(ql)?:\/\//.test(u), {
    message: 'must be a postgres:// URL',
  }),
  // redis:// or rediss:// (TLS) over TCP, or unix:///absolute/path.sock[?db=N&password=...] for a
  // Redis on the same host (no TCP stack on either side of every command).
  REDIS_URL: z.string().refine((u) => /^rediss?:\/\/[^/]/.test(u) || /^unix:\/\/\/[^?]+/.test(u), {
    message: 'must be a redis://, rediss:// or unix:///path URL',
  }),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  // The daemon's address as others reach it (https://capconduit.example.com, or with a path behind a
  // proxy): what the console prints for dialers to call (the VICIdial snippet) and the demo prints.
  // Unset: the address each console request came in on.
  PUBLIC_URL: z
    .url({ protocol: /^https?$/, message: 'must be an http(s):// URL' })
    .refine((u) => !/[?#]/.test(u), { message: 'must have no query or fragment' })
    .transform((u) => {
      const x = new URL(u);
      return `${x.origin}${x.pathname.replace(/\/+$/, '')}`;
    })
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: bool.optional(),
  // Comma-separated addresses/CIDRs of reverse proxies whose X-Forwarded-For we believe.
  TRUSTED_PROXIES: z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    ),
  // 32 bytes, hex (64 chars) or base64: encrypts carrier credentials at rest.
  MASTER_KEY: z
    .string()
    .refine((k) => decodeKey(k) !== null, { message: 'must be 32 bytes as 64 hex chars or base64' }),
  // Earlier master keys (comma-separated), still accepted for reading while `capconduit
  // rotate-master-key` re-encrypts every record under MASTER_KEY.
  MASTER_KEY_PREVIOUS: z
    .string()
    .optional()
    .refine((k) => k === undefined || k.split(',').every((x) => decodeKey(x.trim()) !== null), {
      message: 'each key must be 32 bytes as 64 hex chars or base64',
    }),
  MIGRATE_ON_START: bool.default(false),
  // Every Redis key of ours starts with this (tests give each file its own).
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/)
    .default('cc'),
  INSTANCE_ID: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,48}$/)
    .default(
      () =>
        hostname()
          .replace(/[^A-Za-z0-9_-]/g, '-')
          .slice(0, 40) +
        '-' +
        process.pid,
    ),
  // Failed authentication attempts allowed per IP per minute before 429.
  AUTH_FAIL_LIMIT_PER_MIN: z.coerce.number().int().min(1).default(20),
  // Requests a minute one API key may make, shared by every instance (0: no limit); a key's own
  // rate_limit_per_min overrides it. Dialer keys (/next-cid for a whole call centre) get a high one.
  // Call records are deleted this many days after the call; the caller's number is cleared from them
  // after CALLER_NUMBER_RETENTION_DAYS (personal data, often kept shorter). 0 keeps forever. The
  // purge runs every RETENTION_SWEEP_MIN on one instance at a time.
  CDR_RETENTION_DAYS: z.coerce.number().int().min(0).default(400),
  CALLER_NUMBER_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  RETENTION_SWEEP_MIN: z.coerce.number().int().min(1).default(60),
  // Call recordings are deleted from Asterisk after RECORDING_RETENTION_DAYS (0: kept as long as their
  // call record), and always with their call record, by the same purge.
  RECORDING_RETENTION_DAYS: z.coerce.number().int().min(0).default(90),
  API_RATE_LIMIT_PER_MIN: z.coerce.number().int().min(0).default(1_200),
  API_RATE_LIMIT_DIALER_PER_MIN: z.coerce.number().int().min(0).default(600_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  // Console sessions end after this long without a request, and this long after sign-in at most.
  CONSOLE_SESSION_IDLE_MIN: z.coerce.number().int().min(1).default(30),
  CONSOLE_SESSION_MAX_H: z.coerce.number().int().min(1).default(12),

  // Asterisk: one node through the ASTERISK_* variables, or many through ASTERISK_NODES (JSON).
  STASIS_APP: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default('capconduit'),
  // Several instances on one Asterisk: each registers <STASIS_APP>-<INSTANCE_ID> and claims calls
  // offered by StasisBroadcast; otherwise the instance registers plain <STASIS_APP>.
  STASIS_BROADCAST: bool.default(false),
  ASTERISK_NODES: z.string().optional(),
  // How ARI REST requests travel: over the events WebSocket (Asterisk 20.14+/21.9+/22.4+) or HTTP;
  // `auto` asks each node its version at every connect.
  ASTERISK_ARI_TRANSPORT: z.enum(['auto', 'http', 'websocket']).default('auto'),
  // HTTP connections to each node at most. Asterisk refuses sessions beyond http.conf's
  // sessionlimit (default 100) for all its clients together: stay well under it.
  ASTERISK_ARI_HTTP_MAX_SOCKETS: z.coerce.number().int().min(1).max(1000).default(32),
  // REST requests in flight on each node's events WebSocket. Asterisk serves them one at a time, but
  // each answer also waits for this process's event loop: too few in flight caps the request rate.
  ASTERISK_ARI_WS_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(10_000).default(128),
  // HTTP connections to each node for hangups and bridge destroys (the cleanup lane), besides the
  // above: count them in Asterisk's session limit too.
  ASTERISK_ARI_CLEANUP_MAX_SOCKETS: z.coerce.number().int().min(1).max(1000).default(8),
  // Bound on an ARI request, from the call to its answer (time queued here included). A request
  // sent and not answered within it is taken as having happened (its channel or bridge cleaned up).
  ASTERISK_ARI_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  // A node whose oldest ARI request has waited this long is overloaded: new calls are shed.
  ASTERISK_ARI_OVERLOAD_WAIT_MS: z.coerce.number().int().min(1).default(2000),
  // Ping the events WebSocket this often; drop and reconnect it when silent this long after a ping.
  ASTERISK_ARI_PING_INTERVAL_MS: z.coerce.number().int().min(10).default(5000),
  ASTERISK_ARI_PONG_TIMEOUT_MS: z.coerce.number().int().min(10).default(10_000),
  ASTERISK_NODE_ID: z.string().default('asterisk-1'),
  ASTERISK_ARI_URL: z.url().optional(),
  ASTERISK_ARI_USER: z.string().optional(),
  ASTERISK_ARI_PASSWORD: z.string().optional(),
  ASTERISK_AMI_HOST: z.string().optional(),
  ASTERISK_AMI_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  ASTERISK_AMI_USER: z.string().optional(),
  ASTERISK_AMI_SECRET: z.string().optional(),
  // The single node's cdr_pgsql table (see cdrTable of ASTERISK_NODES); `off` reads none.
  ASTERISK_CDR_TABLE: z.union([z.literal('off'), cdrTable]).default('asterisk_cdr'),

  // Routing
  DEFAULT_TIMEZONE: z.string().default('UTC').refine(isIanaZone, { message: 'unknown IANA time zone' }),
  // Slots expire after this many seconds even if nothing releases them (crash safety net).
  SLOT_TTL_S: z.coerce
    .number()
    .int()
    .min(60)
    .default(4 * 3600),
  CDR_BUFFER_DIR: z.string().default('.data/cdr-buffer'),
  // How often live channels are compared with routing slots (slots of vanished calls are freed).
  RECONCILE_INTERVAL_S: z.coerce.number().int().min(1).default(30),
  // An instance says it is alive in Redis every fifth of this; once it has not for this long, its
  // calls left in Asterisk are taken over by whichever instance reconciles their node first.
  INSTANCE_DEAD_AFTER_S: z.coerce.number().int().min(2).max(600).default(15),
  // Asterisk's CDRs of callers that entered our app are read back this long after they ended (by
  // when every instance's own CDR of a call it saw is in PostgreSQL); those no call of ours names get one.
  UNSEEN_CALLS_GRACE_S: z.coerce.number().int().min(1).max(3600).default(60),
  // How often a caller in a hold queue looks for a free slot by itself (ms). Freed slots wake the
  // waiters at once; this poll only covers a wake-up lost (the subscription reconnecting) or a slot
  // that freed without a release (a cap raised).
  HOLD_QUEUE_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(2000),
  // This process's event loop later than this (ms, p99 over a second): new calls are shed, as when
  // a node falls behind; admitted again once 3 seconds in a row stay under EVENT_LOOP_RESUME_MS
  // (default: half the bound). 0: never shed on it.
  EVENT_LOOP_SHED_MS: z.coerce.number().int().min(0).default(1000),
  EVENT_LOOP_RESUME_MS: z.coerce.number().int().min(1).optional(),
  // How long a DID's routing plan is served from memory before a background re-read. Changes made
  // in PostgreSQL reach calls at once anyway (LISTEN/NOTIFY); this bounds staleness if that fails.
  ROUTING_PLAN_TTL_S: z.coerce.number().int().min(1).max(86_400).default(5),

  // Caller-ID rotation
  CID_RESERVATION_TTL_S: z.coerce.number().int().min(1).max(3600).default(60),
  CID_AGENT_RATE_PER_MIN: z.coerce.number().int().min(1).default(120),
  // Zone of the hour/day buckets that caller-ID limits count in (default: DEFAULT_TIMEZONE).
  CID_TIMEZONE: z
    .string()
    .optional()
    .refine((t) => t === undefined || isIanaZone(t), {
      message: 'unknown IANA time zone',
    }),
  // How often caller-ID usage is written from Redis to PostgreSQL (ms).
  CID_FLUSH_INTERVAL_MS: z.coerce.number().int().min(100).default(1000),
  // How often numbers whose hourly/daily window or rest ended go back into their pools' candidate
  // sets in bulk (ms; 0: only each pick's small batch does it, see docs/caller-id.md "Choice").
  CID_PROMOTE_INTERVAL_MS: z.coerce.number().int().min(0).default(1000),
  // Number health source: AMI Hangup events (always on) or Cdr events (needs cdr_manager).
  CID_HEALTH_EVENT: z.enum(['hangup', 'cdr']).default('hangup'),
  // Log level of `/next-cid` requests. A dialer asks once per call, thousands of times a second:
  // logging each request at info, as other routes are, nearly doubled the daemon's CPU per request.
  // Their counts and latencies are in /metrics either way; `info` logs each one again.
  CID_REQUEST_LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('warn'),

  // PBX users
  PBX_EXTENSION_MIN: z.coerce.number().int().min(1).default(1000),
  PBX_EXTENSION_MAX: z.coerce.number().int().min(1).default(1999),
  // PJSIP realtime provisioning (src/pbx): defaults written into the endpoints the API creates.
  PBX_TRANSPORT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .default('transport-udp'),
  PBX_USER_CONTEXT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .default('internal'),
  PBX_CLIENT_CONTEXT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .default('from-client'),
  // Default: the context that hands calls to Stasis, from-carrier (or from-carrier-broadcast when
  // STASIS_BROADCAST is on).
  PBX_SELLER_CONTEXT: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,40}$/)
    .optional(),
  PBX_CODECS: z
    .string()
    .regex(/^[a-z0-9]+(,[a-z0-9]+)*$/, 'comma-separated codec names')
    .default('ulaw,alaw'),
  // Apply: reload res_pjsip on every node before checking endpoints; per-action AMI timeout; how long
  // the cross-instance apply lock lives at most.
  PBX_APPLY_RELOAD: bool.default(true),
  PBX_APPLY_TIMEOUT_MS: z.coerce.number().int().min(100).default(5000),
  PBX_APPLY_LOCK_TTL_MS: z.coerce.number().int().min(1000).default(120_000),

  // DID provisioning (src/provisioning)
  // Run the BullMQ workers (carrier jobs, webhook deliveries) inside the daemon; `capconduit worker`
  // runs them alone.
  PROVISIONING_WORKERS: bool.default(true),
  // Attempts per job item and per webhook delivery before it is reported failed.
  PROVISIONING_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  // How long a worker holds an item before another instance may take it over (a killed worker's
  // items come back after this).
  PROVISIONING_LOCK_MS: z.coerce.number().int().min(1000).default(30_000),
  // Hours between reconcile runs against each carrier (0: only on request).
  PROVISIONING_RECONCILE_INTERVAL_H: z.coerce.number().min(0).default(24),
  // Webhook URLs may point at private, loopback or link-local addresses (tests, labs); never in production.
  WEBHOOK_ALLOW_PRIVATE: bool.default(false),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  // Routing alerts: at most one route.failed per seller and reason, and one cap.reached per concurrency
  // cap, in this many seconds (hour, day and month caps: once per period); one node.down per node.
  ALERT_THROTTLE_S: z.coerce.number().int().min(1).default(300),
});

export type Config = Omit<
  z.infer<typeof schema>,
  | 'ASTERISK_NODES'
  | 'ASTERISK_NODE_ID'
  | 'ASTERISK_ARI_URL'
  | 'ASTERISK_ARI_USER'
  | 'ASTERISK_ARI_PASSWORD'
  | 'ASTERISK_AMI_HOST'
  | 'ASTERISK_AMI_PORT'
  | 'ASTERISK_AMI_USER'
  | 'ASTERISK_AMI_SECRET'
  | 'ASTERISK_CDR_TABLE'
  | 'MASTER_KEY'
  | 'MASTER_KEY_PREVIOUS'
> & { masterKey: Buffer; previousMasterKeys: Buffer[]; asteriskNodes: AsteriskNodeConfig[] };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function decodeKey(k: string): Buffer | null {
  if (/^[0-9a-fA-F]{64}$/.test(k)) return Buffer.from(k, 'hex');
  const b = Buffer.from(k, 'base64');
  return b.length === 32 ? b : null;
}

const nodeSchema = schema.pick({
  ASTERISK_NODES: true,
  ASTERISK_NODE_ID: true,
  ASTERISK_ARI_URL: true,
  ASTERISK_ARI_USER: true,
  ASTERISK_ARI_PASSWORD: true,
  ASTERISK_AMI_HOST: true,
  ASTERISK_AMI_PORT: true,
  ASTERISK_AMI_USER: true,
  ASTERISK_AMI_SECRET: true,
  ASTERISK_CDR_TABLE: true,
});

function parseNodes(env: z.infer<typeof nodeSchema>, problems: string[]): AsteriskNodeConfig[] {
  if (env.ASTERISK_NODES) {
    let raw: unknown;
    try {
      raw = JSON.parse(env.ASTERISK_NODES);
    } catch {
      problems.push('ASTERISK_NODES: not valid JSON (expected an array of node objects)');
      return [];
    }
    const r = z.array(asteriskNode).safeParse(raw);
    if (!r.success) {
      for (const i of r.error.issues) problems.push(`ASTERISK_NODES[${i.path.join('.')}]: ${i.message}`);
      return [];
    }
    const ids = new Set<string>();
    for (const n of r.data) {
      if (ids.has(n.id)) problems.push(`ASTERISK_NODES: duplicate node id "${n.id}"`);
      ids.add(n.id);
    }
    return r.data;
  }
  if (!env.ASTERISK_ARI_URL) return [];
  const r = asteriskNode.safeParse({
    id: env.ASTERISK_NODE_ID,
    ariUrl: env.ASTERISK_ARI_URL,
    ariUser: env.ASTERISK_ARI_USER,
    ariPassword: env.ASTERISK_ARI_PASSWORD,
    amiHost: env.ASTERISK_AMI_HOST,
    amiPort: env.ASTERISK_AMI_PORT,
    amiUser: env.ASTERISK_AMI_USER,
    amiSecret: env.ASTERISK_AMI_SECRET,
    ...(env.ASTERISK_CDR_TABLE !== 'off' ? { cdrTable: env.ASTERISK_CDR_TABLE } : {}),
  });
  if (!r.success) {
    const names: Record<string, string> = {
      id: 'ASTERISK_NODE_ID',
      ariUrl: 'ASTERISK_ARI_URL',
      ariUser: 'ASTERISK_ARI_USER',
      ariPassword: 'ASTERISK_ARI_PASSWORD',
      amiHost: 'ASTERISK_AMI_HOST',
      amiPort: 'ASTERISK_AMI_PORT',
      amiUser: 'ASTERISK_AMI_USER',
      amiSecret: 'ASTERISK_AMI_SECRET',
    };
    for (const i of r.error.issues) {
      const k = String(i.path[0] ?? '');
      problems.push(
        `${names[k] ?? k}: ${i.message === 'Invalid input: expected string, received undefined' ? 'required when ASTERISK_ARI_URL is set' : i.message}`,
      );
    }
    return [];
  }
  return [r.data];
}

/** Parse an environment into a Config; throws ConfigError with one line per problem. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const { config, masterKey } = parseEnv(env, schema);
  return { ...config, masterKey: decodeKey(masterKey!)! };
}

/** The schema of tools that never touch carrier credentials: MASTER_KEY may be absent. */
const toolSchema = schema.extend({ MASTER_KEY: schema.shape.MASTER_KEY.optional() });

/**
 * The configuration without MASTER_KEY, for commands that never read carrier credentials
 * (import-cids): they must not ask an operator for the key that guards them.
 */
export function loadToolConfig(envFile = '.env'): Omit<Config, 'masterKey'> {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseEnv(process.env, toolSchema).config;
}

function parseEnv(
  env: Record<string, string | undefined>,
  s: typeof schema | typeof toolSchema,
): { config: Omit<Config, 'masterKey'>; masterKey: string | undefined } {
  // Empty strings mean "unset", as operators write `FOO=` in .env files.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const r = s.safeParse(cleaned);
  if (!r.success) {
    const problems = r.error.issues.map((i) => {
      const name = String(i.path[0] ?? '?');
      const msg = cleaned[name] === undefined ? 'required but not set' : i.message;
      return `${name}: ${msg}`;
    });
    throw new ConfigError(problems);
  }
  const problems: string[] = [];
  const nodes = parseNodes(r.data, problems);
  if (r.data.PBX_EXTENSION_MIN > r.data.PBX_EXTENSION_MAX)
    problems.push('PBX_EXTENSION_MIN: must not exceed PBX_EXTENSION_MAX');
  if (problems.length) throw new ConfigError(problems);
  const {
    ASTERISK_NODES: _n,
    ASTERISK_NODE_ID: _i,
    ASTERISK_ARI_URL: _u,
    ASTERISK_ARI_USER: _au,
    ASTERISK_ARI_PASSWORD: _ap,
    ASTERISK_AMI_HOST: _h,
    ASTERISK_AMI_PORT: _p,
    ASTERISK_AMI_USER: _mu,
    ASTERISK_AMI_SECRET: _ms,
    ASTERISK_CDR_TABLE: _ct,
    MASTER_KEY,
    MASTER_KEY_PREVIOUS,
    ...rest
  } = r.data;
  const previousMasterKeys = (MASTER_KEY_PREVIOUS ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
    .map((x) => decodeKey(x)!);
  return { config: { ...rest, previousMasterKeys, asteriskNodes: nodes }, masterKey: MASTER_KEY };
}

/** Load `.env` (if present, without overriding real env) and parse process.env. */
export function loadConfig(envFile = '.env'): Config {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  return parseConfig(process.env);
}

/** Only the parts needed by tools that do not run the daemon (migrate, create-key). */
export function loadDbConfig(envFile = '.env'): { DATABASE_URL: string } {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const r = z
    .object({ DATABASE_URL: schema.shape.DATABASE_URL })
    .safeParse(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {});
  if (!r.success)
    throw new ConfigError([
      `DATABASE_URL: ${process.env.DATABASE_URL ? r.error.issues[0]?.message : 'required but not set'}`,
    ]);
  return r.data;
}

/** Only the Asterisk nodes, for tools that talk to Asterisk without running the daemon (call). */
export function loadAsteriskNodes(envFile = '.env'): AsteriskNodeConfig[] {
  if (existsSync(envFile)) process.loadEnvFile(envFile);
  const cleaned = Object.fromEntries(
    Object.entries(process.env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const r = nodeSchema.safeParse(cleaned);
  if (!r.success)
    throw new ConfigError(r.error.issues.map((i) => `${String(i.path[0] ?? '?')}: ${i.message}`));
  const problems: string[] = [];
  const nodes = parseNodes(r.data, problems);
  if (problems.length) throw new ConfigError(problems);
  return nodes;
}
