export type { VersionVector } from '@tessera/core';
export type { AntiEntropyReport } from './anti-entropy.ts';
export {
  type Consistency,
  checkDatabaseReplication,
  type DatabaseReplication,
  replicationFactorMax,
  requiredCount,
} from './consistency.ts';
export * from './errors.ts';
export {
  type ApplyOp,
  decodeReply,
  decodeRequest,
  encodeErrorReply,
  encodeReply,
  encodeRequest,
  FRAME_VERSION,
  type IdempotentResult,
  type OpResult,
  type ReplicaOp,
  type ReplyFrame,
  type RequestFrame,
} from './frames.ts';
export type { HintReplayReport } from './hints.ts';
export * from './limits.ts';
export type { Placement, SlotOwners } from './placement.ts';
export type { ReapReport } from './reaper.ts';
export type { ReclaimReport } from './reclaim.ts';
export {
  isTombstoneOnly,
  merge,
  mint,
  type Payload,
  type ReplicaRecord,
  type Sibling,
  versionHash,
  winnerOf,
} from './record.ts';
export { recordFromWire, recordToWire } from './record-codec.ts';
export { checkRecordInput, escapedKeyBytes, type RecordLimits, recordLimitsOf } from './record-limits.ts';
export {
  type Derive,
  type DerivedEntry,
  emptyDigest,
  REPLICA_FORMAT_VERSION,
  type RecordChange,
  recordFromStored,
  recordsPageAdvances,
  type ScanEntry,
} from './replica-store.ts';
export {
  type ReadOptions,
  type ReadResult,
  Replicator,
  type ReplicatorOptions,
  type SiblingView,
  type UnderReplication,
  type Version,
  type WriteOptions,
  type WriteResult,
} from './replicator.ts';
export type { ScanRequest, ScanResult } from './scan.ts';
export { pullSlotsWhole, type RecordsPage, type SlotPullIo, type WholeSlot } from './slot-pull.ts';
export {
  type FrameHandler,
  type PeerId,
  REPLICATION_PROTOCOL,
  type ReplicaTransport,
  type RequestOptions,
} from './transport.ts';
