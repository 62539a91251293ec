export { startTestCluster, type TestCluster, type TestClusterOptions } from './cluster.ts';
export { History } from './history.ts';
export {
  type MemoryNetworkOptions,
  MemoryReplicaNetwork,
  MemoryRequestTimeoutError,
  seededRandom,
} from './memory-network.ts';
export { StaticPlacement } from './static-placement.ts';
export { type TestTimers, testTimers } from './timers.ts';
