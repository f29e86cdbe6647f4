// Tests point daemons at simulators with the same variables an operator would set.
export { asteriskEnv as simEnv } from '../../src/simulator/index.ts';
