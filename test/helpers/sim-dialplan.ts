// A simulator running a test's own dialplan with AMI watching, and calls placed into it: the setup
// of the simulator's dialplan application tests.
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import type { Cleanup } from './cleanup.ts';
import { simAmi } from './sim-ami.ts';
import { waitFor } from './wait.ts';

/** Starts it; everything it opens is handed to `cleanup` (run in reverse after each test). */
export async function simDialplan(cleanup: Cleanup, o: Partial<SimulatorOptions>) {
  const { s, ami } = await simAmi(cleanup, o);
  /** A call into [calls] at `exten`; resolves with the dialling channel's id (once gone, by default). */
  const call = async (exten: string, done = true) => {
    const id = s.placeInboundCall({ did: exten, callerNumber: '12125550100', context: 'calls' });
    if (done) await waitFor(() => ami.of(id, 'Hangup').length === 1);
    return id;
  };
  return { s, ami, call };
}
