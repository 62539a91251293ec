/** What the Replicator's background parts (hints, anti-entropy, reaper) share. */
import type { ReplicatorLimits } from './limits.ts';
import type { PeerCaller } from './peer-call.ts';
import type { Placement } from './placement.ts';
import type { ReplicaService } from './replica.ts';
import type { ReplicaStore } from './replica-store.ts';
import type { PeerId } from './transport.ts';

export interface ReplicatorContext {
  readonly selfId: PeerId;
  readonly caller: PeerCaller;
  readonly placement: Placement;
  readonly replicaStore: ReplicaStore;
  readonly replica: ReplicaService;
  readonly limits: ReplicatorLimits;
  now(): number;
  /** The owners that hold `key` (the first N of its slot's owners). */
  ownersOfKey(key: Uint8Array, slot: number): readonly PeerId[];
  /** Every owner of `slot`, primary first (a database with factor N uses the first N). */
  slotOwners(slot: number): readonly PeerId[];
  /** N of the default database settings: co-owners within the first N are compared even when empty. */
  readonly defaultReplicationFactor: number;
  /** Records that `peer` may be missing data of `slot`. */
  markUnderReplicated(slot: number, peer: PeerId): void;
  /** Records that `peer` was verified to match this replica on `slot`. */
  markVerified(slot: number, peer: PeerId): void;
}
