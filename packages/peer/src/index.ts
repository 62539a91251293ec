/**
 * `@tessera/peer` for Node: TCP and WebSockets listeners and a circuit-relay
 * server. Browsers resolve `index.browser.ts` through the `browser` export
 * condition instead, so nothing Node-only reaches a browser bundle.
 */
import { createPeerOn, type Peer, type PeerOptions, type Platform } from './peer.ts';
import { createNodeLibp2p } from './platform-node.ts';

export {
  type Database,
  type DataReadOptions,
  type DataReadResult,
  type DataSibling,
  type DataWriteOptions,
  type DataWriteResult,
  DEFAULT_DATABASE,
  KV_COLLECTION,
  kvRecordKey,
  routingKeyOfRecord,
} from './data.ts';
export * from './errors.ts';
export { MembershipPlacement, NO_SLOT_MAP, type SlotLookup, servingMember } from './liveness.ts';
export {
  COORDINATOR_PROTOCOL,
  clusterTopic,
  Libp2pNetwork,
  type Libp2pNetworkOptions,
  type NetworkStats,
} from './network.ts';
export * from './network-limits.ts';
export type { Peer, PeerNetworkOptions, PeerOptions, PeerReplicationOptions, PeerRole } from './peer.ts';
export { type PeerSlotMapOptions, SLOT_COPY_JOB_KIND } from './peer-slot-map.ts';
export { NODE_LISTEN_DEFAULT } from './platform-node.ts';
export {
  REPAIR_PERIODS_DEFAULT,
  type RepairPeriods,
  RepairScheduler,
  type RepairTaskName,
  type RepairTaskStats,
} from './repair-scheduler.ts';
export {
  Libp2pReplicaTransport,
  type ReplicaTransportOptions,
  type ReplicaTransportStats,
} from './replica-transport.ts';
export type { SlotCopyReport } from './slot-copy.ts';

const nodePlatform: Platform = { defaultRole: 'owner', createLibp2p: createNodeLibp2p };

/** Starts a Node peer: loads (or creates) its identity from `storage`, listens, dials `bootstrap`. */
export function createPeer(options: PeerOptions): Promise<Peer> {
  return createPeerOn(nodePlatform, options);
}
