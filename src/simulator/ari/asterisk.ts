// /asterisk: system information.
import { asteriskOps } from './operations.ts';
import { bind } from './spec.ts';
import type { AriState } from './state.ts';

export const asteriskRoutes = bind<AriState, typeof asteriskOps>(asteriskOps, {
  getInfo: (_a, s) => ({
    status: 200,
    body: {
      system: { version: '22.10.1-capconduit-sim', entity_id: s.model.asteriskId },
      status: { startup_time: new Date().toISOString() },
    },
  }),
});
