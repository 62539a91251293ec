/**
 * `@tessera/peer` for browsers: WebSockets to Node peers and WebRTC to other
 * browsers through a relay. Same API as the Node entry; default role client.
 */
import { createPeerOn, type Peer, type PeerOptions, type Platform } from './peer.ts';
import { createBrowserLibp2p } from './platform-browser.ts';

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
export { BROWSER_LISTEN_DEFAULT } from './platform-browser.ts';
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

/** Browser-only options. */
export interface BrowserPeerOptions extends PeerOptions {
  /** ICE servers for WebRTC; none by default (host candidates only). */
  readonly iceServers?: readonly RTCIceServer[];
}

/** Starts a browser peer: loads (or creates) its identity from `storage`, listens on the relay and WebRTC, dials `bootstrap`. */
export function createPeer(options: BrowserPeerOptions): Promise<Peer> {
  const platform: Platform = {
    defaultRole: 'client',
    createLibp2p: (init) =>
      createBrowserLibp2p({
        ...init,
        ...(options.iceServers === undefined ? {} : { iceServers: options.iceServers }),
      }),
  };
  return createPeerOn(platform, options);
}
