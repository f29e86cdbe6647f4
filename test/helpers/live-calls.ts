// Where in-process daemon instances have their calls, by caller: what the tests of the hold queue
// across several instances wait on and look at.
import type { RoutingModule } from '../../src/routing/index.ts';
import { waitFor } from './wait.ts';

/** `routing(i)`: instance i's routing module. */
export function livePhases(routing: (i: number) => RoutingModule) {
  /** Waits until instance `i` has the caller's call in `phase`. */
  const phaseOf = (i: number, caller: string, phase: string) =>
    waitFor(() =>
      routing(i)
        .router!.live()
        .find((x) => x.caller === caller && x.phase === phase),
    );
  /** The phase instance `i` has the caller's call in now (undefined: it has no such call). */
  const phaseNow = (i: number, caller: string) =>
    routing(i)
      .router!.live()
      .find((x) => x.caller === caller)?.phase;
  return { phaseOf, phaseNow };
}
