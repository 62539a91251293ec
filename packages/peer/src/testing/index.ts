/**
 * `@tessera/peer/testing`: real peer processes and polling helpers for tests
 * and benchmarks in other packages. Node only.
 */
export { type LoadResult, runLoad } from './load.ts';
export type { PeerProcessConfig } from './peer-process.ts';
export { type PeerProcess, type PeerProcessEvent, spawnPeerProcess } from './peer-process-control.ts';
export {
  historyResult,
  historyStep,
  slotMapOwners,
  testReplication,
  testSlotMap,
  testTiming,
  waitForSlotMap,
} from './replication-cluster.ts';
export { type WaitOptions, waitFor } from './wait.ts';
