// The caller-ID domain's HTTP resources, one thin plugin each (registered in their own scopes).
import type { CallerIdService } from '../service.ts';
import { importRoutes } from './import.ts';
import { nextCidRoutes } from './next-cid.ts';
import { numberRoutes } from './numbers.ts';
import { poolRoutes } from './pools.ts';
import { statsRoutes } from './stats.ts';

export const callerIdRoutes = (service: CallerIdService) => [
  nextCidRoutes(service),
  poolRoutes(service),
  numberRoutes(service),
  statsRoutes(service),
  importRoutes(service),
];
