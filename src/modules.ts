// The daemon's domain modules, in start order (a module may use those before it).
import { createAsteriskModule } from './asterisk/index.ts';
import { createAuditModule } from './audit/index.ts';
import { createCallerIdModule } from './callerid/index.ts';
import { createConsoleModule } from './console/index.ts';
import type { ModuleFactory } from './platform/module.ts';
import { createPbxModule } from './pbx/index.ts';
import { createProvisioningModule } from './provisioning/index.ts';
import { createReportsModule } from './reports/index.ts';
import { createRoutingModule } from './routing/index.ts';

export function defaultModules(): ModuleFactory[] {
  return [
    createAsteriskModule,
    createRoutingModule,
    createReportsModule,
    createAuditModule,
    createPbxModule,
    (ctx) => createCallerIdModule(ctx),
    createConsoleModule,
    (ctx) => createProvisioningModule(ctx),
  ];
}
