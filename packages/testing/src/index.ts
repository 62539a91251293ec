/**
 * `@tessera/testing`: a Playwright fixture for multi-peer tests of Tessera and
 * of apps that embed it. Node only (the browser side is the harness page it
 * builds and serves).
 */

export { waitFor } from '@tessera/peer/testing';
export { BLOCKED_PEERS_MAX, type Blocklist, installBlocklist } from './blocklist.ts';
export { BrowserPeer } from './browser-peer.ts';
export {
  CLUSTER_OPTIONS_DEFAULT,
  CLUSTER_WAIT_MS_DEFAULT,
  type ClusterOptions,
  type ConvergeOptions,
  E2E_TIMING,
  REPLICA_REQUEST_TIMEOUT_MS,
  TesseraCluster,
} from './cluster.ts';
export { WriteQueueFullError } from './errors.ts';
export { expect, type TesseraFixtures, type TesseraWorkerFixtures, test } from './fixture.ts';
export type { ArrivedWrite, BrowserPeerConfig, HarnessApi, TimedPut } from './harness/api.ts';
export { type HarnessServer, startHarnessServer } from './harness-server.ts';
export { NODE_PEER_CALL_TIMEOUT_MS, NODE_PEER_READY_TIMEOUT_MS, NodePeer } from './node-peer.ts';
export type { NodePeerConfig } from './node-peer-process.ts';
export type { ConnectionView, MemberView, PeerCommand, ReadView } from './peer-commands.ts';
export { TestPeer } from './test-peer.ts';
export { QUEUED_WRITES_MAX, type QueuedPut, RETRY_PERIOD_MS_DEFAULT, WriteQueue } from './write-queue.ts';
