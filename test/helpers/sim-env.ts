import type { Simulator } from '../../src/simulator/index.ts';

/** The environment that points a daemon at a simulator node. */
export function simEnv(sim: Simulator, nodeId = 'asterisk-1'): Record<string, string> {
  return {
    ASTERISK_NODE_ID: nodeId,
    ASTERISK_ARI_URL: sim.ariUrl,
    ASTERISK_ARI_USER: 'asterisk',
    ASTERISK_ARI_PASSWORD: 'asterisk',
    ASTERISK_AMI_PORT: String(sim.amiPort),
    ASTERISK_AMI_USER: 'asterisk',
    ASTERISK_AMI_SECRET: 'asterisk',
  };
}
