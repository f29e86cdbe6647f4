// A simulator running a test's own dialplan with AMI watching, and calls placed into it: the setup
// of the simulator's dialplan application tests.
import { type SimulatorOptions, startSimulator } from '../../src/simulator/index.ts';
import { amiSession } from './sim-ami.ts';
import { waitFor } from './wait.ts';

/** Starts it; everything it opens is handed to `cleanup` (run in reverse after each test). */
export async function simDialplan(cleanup: Array<() => unknown>, o: Partial<SimulatorOptions>) {
  const s = await startSimulator({ ariPort: 0, amiPort: 0, ...o });
  cleanup.push(() => s.stop());
  const ami = await amiSession(s.amiPort, cleanup);
  /** A call into [calls] at `exten`; resolves with the dialling channel's id (once gone, by default). */
  const call = async (exten: string, done = true) => {
    const id = s.placeInboundCall({ did: exten, callerNumber: '12125550100', context: 'calls' });
    if (done) await waitFor(() => ami.of(id, 'Hangup').length === 1);
    return id;
  };
  return { s, ami, call };
}
