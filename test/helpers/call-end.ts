// The end of a routed call as the tests against the simulator wait for it: its CDR rows (written a
// moment after the caller hung up, once the daemon has finished the call), then every leg of its
// client gone from Asterisk and the link's live slots back.
import type { Simulator } from '../../src/simulator/index.ts';
import { waitFor } from './wait.ts';

/** What `read` answers once it answers any row. */
export function rowsOnce<T>(read: () => Promise<readonly T[]>, ms?: number): Promise<readonly T[]> {
  return waitFor(async () => {
    const rows = await read();
    return rows.length ? rows : undefined;
  }, ms);
}

/** Until `left` legs of the client's endpoint are up in the simulator, then `left` slots live on the link. */
export async function legsAndSlotsBack(
  sim: Pick<Simulator, 'channelCount'>,
  endpoint: string,
  slots: { live(linkId: string): Promise<number> },
  linkId: string,
  left = 0,
): Promise<void> {
  await waitFor(() => sim.channelCount(`PJSIP/${endpoint}-`) === left);
  await waitFor(async () => (await slots.live(linkId)) === left);
}
