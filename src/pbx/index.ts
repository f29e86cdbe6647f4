// The `pbx` daemon module: PJSIP realtime provisioning (client endpoints, seller trunks, PBX users
// with extensions), apply over AMI on every node under a cross-instance lock, and the audit trail.
import type { AsteriskModule } from '../asterisk/index.ts';
import { StartupError } from '../platform/module.ts';
import type { DaemonContext, DaemonModule } from '../platform/module.ts';
import { RedisKeys } from '../platform/redis/keys.ts';
import { KNOWN_CODECS } from './options.ts';
import { applyRoutes } from './routes/apply.ts';
import { auditRoutes } from './routes/audit.ts';
import { clientEndpointRoutes } from './routes/clients.ts';
import { endpointRoutes } from './routes/endpoints.ts';
import { trunkRoutes } from './routes/trunks.ts';
import { userRoutes } from './routes/users.ts';
import { PbxService } from './service/index.ts';

export interface PbxModule extends DaemonModule {
  name: 'pbx';
  service: PbxService;
}

export function createPbxModule(ctx: DaemonContext): PbxModule {
  const { config, database, log } = ctx;
  const codecs = config.PBX_CODECS.split(',');
  const unknown = codecs.filter((c) => !(KNOWN_CODECS as readonly string[]).includes(c));
  if (unknown.length) throw new StartupError(`PBX_CODECS: unknown codec(s) ${unknown.join(', ')}`);
  const asterisk = ctx.modules.get('asterisk') as AsteriskModule | undefined;
  const service = new PbxService(
    database.db,
    ctx.redis,
    {
      extensionMin: config.PBX_EXTENSION_MIN,
      extensionMax: config.PBX_EXTENSION_MAX,
      transport: config.PBX_TRANSPORT,
      userContext: config.PBX_USER_CONTEXT,
      clientContext: config.PBX_CLIENT_CONTEXT,
      sellerContext:
        config.PBX_SELLER_CONTEXT ?? (config.STASIS_BROADCAST ? 'from-carrier-broadcast' : 'from-carrier'),
      codecs,
      apply: { reload: config.PBX_APPLY_RELOAD, timeoutMs: config.PBX_APPLY_TIMEOUT_MS, concurrency: 8 },
      lockTtlMs: config.PBX_APPLY_LOCK_TTL_MS,
      lockKey: new RedisKeys(config.REDIS_KEY_PREFIX).pbxApplyLock,
    },
    () => [...(asterisk?.nodes.values() ?? [])],
    log.child({ module: 'pbx' }),
  );
  return {
    name: 'pbx',
    service,
    routes: [
      clientEndpointRoutes(service.endpoints),
      trunkRoutes(service.trunks),
      userRoutes(service.users),
      endpointRoutes(service.endpoints),
      applyRoutes(service.apply),
      auditRoutes(service.audit),
    ],
  };
}
