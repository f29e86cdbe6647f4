// The PBX domain's operations, one service per resource, sharing the audit trail.
import type { Redis } from 'ioredis';
import type { Db } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { type ApplyNode, ApplyService } from './apply.ts';
import { PbxAudit } from './audit.ts';
import { EndpointService } from './endpoints.ts';
import type { PbxSettings } from './settings.ts';
import { TrunkService } from './trunks.ts';
import { UserService } from './users.ts';

export class PbxService {
  readonly audit: PbxAudit;
  readonly endpoints: EndpointService;
  readonly trunks: TrunkService;
  readonly users: UserService;
  readonly apply: ApplyService;

  constructor(db: Db, redis: Redis, s: PbxSettings, nodes: () => ApplyNode[], log: Logger) {
    this.audit = new PbxAudit(db, log);
    this.endpoints = new EndpointService(db, s, this.audit);
    this.trunks = new TrunkService(db, s, this.audit, this.endpoints);
    this.users = new UserService(db, s, this.audit);
    this.apply = new ApplyService(db, redis, s, nodes, this.audit, log);
  }
}
