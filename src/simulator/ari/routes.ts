// The route table: every ARI operation the simulator serves, with its handler. Requests are
// resolved through it and the api-docs are generated from it.
import { applicationRoutes } from './applications.ts';
import { asteriskRoutes } from './asterisk.ts';
import { bridgeRoutes } from './bridges.ts';
import { channelRoutes } from './channels.ts';
import { eventRoutes } from './events.ts';
import { resourceRoutes } from './resources.ts';
import { PathTree, type Route } from './spec.ts';
import type { AriState } from './state.ts';

export const ROUTES: Route<AriState>[] = [
  ...asteriskRoutes,
  ...channelRoutes,
  ...bridgeRoutes,
  ...resourceRoutes,
  ...eventRoutes,
  ...applicationRoutes,
];

export const TREE = new PathTree(ROUTES);
