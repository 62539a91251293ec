/**
 * Where a slot's data lives. The coordinator's slot map implements this in
 * production; `staticPlacement` in `./testing` implements it for tests.
 */
import type { PeerId } from './transport.ts';

/** The owners of one slot. */
export interface SlotOwners {
  /** Owners in order, primary first. A database with replication factor N uses the first N. */
  readonly owners: readonly PeerId[];
  /** The slot-map epoch at which this assignment was made. */
  readonly epoch: number;
}

/** The current slot map and membership view, as this peer sees it. */
export interface Placement {
  /** The owners of `slot` (0 ≤ slot < 16384). */
  lookup(slot: number): SlotOwners;
  /**
   * Whether `peer` is currently up in the membership view.
   * @remarks Advisory: an "up" peer may still time out (then a hint is
   * written), and a "down" peer is not sent writes (a hint is written at once).
   */
  isUp(peer: PeerId): boolean;
  /**
   * A number that changes whenever some `lookup` answer may have changed
   * (e.g. the slot map's commit count). Optional: without it, background
   * work (anti-entropy) recomputes which slots this peer owns on every pass.
   */
  generation?(): number | undefined;
  /**
   * Owners of `slot` in a map change in flight that moves it, else null.
   * Optional: reclaiming the records of slots this peer gave up skips a slot
   * a pending change is about to give it (its records are being copied in).
   */
  pending?(slot: number): SlotOwners | null;
}
