/** The deterministic simulator (`@tessera/coordinator/sim`). */

export { SimCluster, type SimClusterOptions, simPeerId } from './cluster.ts';
export { Prng } from './prng.ts';
export { Scheduler } from './scheduler.ts';
export {
  type SimPeer,
  SimRequestTimeoutError,
  type SimTraffic,
  Simulation,
  type SimulationFaults,
  type SimulationOptions,
  simulationSeed,
} from './simulation.ts';
