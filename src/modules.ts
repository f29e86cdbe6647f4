// The daemon's domain modules, in start order (a module may use those before it).
import { createAsteriskModule } from './asterisk/index.ts';
import type { ModuleFactory } from './main.ts';

export function defaultModules(): ModuleFactory[] {
  return [createAsteriskModule];
}
