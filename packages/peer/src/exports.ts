/**
 * The exports both entries share: everything but `createPeer` and the
 * platform's listen defaults, so the Node and browser APIs cannot drift apart.
 */

// The D record's layout, for front ends that read and write databases as records (the relay's tenants).
export { type DatabaseOptions, META_ROUTING_KEY, METADATA_FORMAT_VERSION } from '@tessera/documents';
export {
  type Database,
  type DataChange,
  type DataReadOptions,
  type DataReadResult,
  type DataSibling,
  type DataWriteOptions,
  type DataWriteResult,
  DEFAULT_DATABASE,
  KV_COLLECTION,
  KvData,
  kvChangeOf,
  kvRecordKey,
  routingKeyOfRecord,
  type WatchOptions,
} from './data.ts';
export {
  DATABASE_LOADS_MAX,
  DATABASE_REFRESH_MS_DEFAULT,
  DATABASES_CACHED_MAX,
  type DatabaseId,
  DatabaseSettings,
  type DatabaseSettingsOptions,
  databaseOfKey,
  settingsFromOptions,
} from './database-settings.ts';
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
export {
  CREDENTIALS_PROTOCOL,
  type GossipVerdict,
  PeerAuth,
  type PeerAuthOptions,
  type PeerAuthStats,
} from './peer-auth.ts';
export { type PeerSlotMapOptions, SLOT_COPY_JOB_KIND } from './peer-slot-map.ts';
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
