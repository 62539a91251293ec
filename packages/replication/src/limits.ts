/**
 * Named bounds of the replication layer. Frames from peers that exceed a
 * wire limit are rejected whole; local callers get `LimitExceededError`.
 */
import { CLOCK_JUMP_MAX_DEFAULT } from '@tessera/core';

/** Largest request or reply frame, in bytes (checked before decoding). */
export const frameBytesMax = 4 * 1024 * 1024;
/** Most operations (or results) in one frame. */
export const opsPerFrameMax = 256;
/** Largest record key a frame may carry; callers are bounded tighter by `Replicator.limits` (from the store). */
export const keyBytesMax = 2048;
/** Largest value a frame may carry; callers are bounded tighter by `Replicator.limits` (from the store). */
export const valueBytesMax = 1024 * 1024;
/** Longest idempotency key, in UTF-16 units. */
export const idempotencyKeyLengthMax = 200;
/** Most siblings one record keeps; beyond it the lowest-stamped losers are dropped (they stay covered by the vector). */
export const siblingsMax = 16;
/** Most version-vector entries one record keeps; beyond it entries with no sibling and the lowest counters are pruned. */
export const versionVectorEntriesMax = 32;
/** Most slots named in one digest request. */
export const digestSlotsPerOpMax = 4096;
/** Most (key, version hash) entries returned by one entries page: the bound on entries per exchange. */
export const slotEntriesPerPageMax = 512;
/** Most entries one scan page returns. */
export const scanEntriesPerPageMax = 1024;
/**
 * Stored record bytes the `records` ops of one request frame may return
 * together after the first record, which is always returned (alone it fits
 * a frame, as a `read` of it does). Half of what one CBOR value (so one
 * frame) may hold, leaving room for the wire encoding.
 */
export const recordsFrameBytesMax = 512 * 1024;
/** A scan page stops once its keys and values pass this many bytes, so a reply stays well under `frameBytesMax`. */
export const scanPageBytesMax = 512 * 1024;
/** A scan page stops after looking at this many keys, even if most belonged to slots not asked for. */
export const scanExaminedPerPageMax = 16 * 1024;
/** Depth of the per-slot hash tree below the slot (level 0); level L has 16^L buckets. */
export const bucketLevelsMax = 4;
/** A differing bucket holding at most this many entries on both sides is compared entry by entry instead of split further. */
export const bucketLeafEntriesMax = 32;
/** Most parent buckets whose children one `children` op asks for. */
export const bucketParentsPerOpMax = 16;

/** Tunable defaults a `Replicator` accepts as options. */
export interface ReplicatorLimits {
  /** How long to wait for one owner's reply to a read or write. */
  readonly requestTimeoutMs: number;
  /**
   * A read asks R owners first; each time this long passes without R
   * replies it also asks one more owner (a failed owner is replaced at once).
   */
  readonly readHedgeMs: number;
  /** How long to wait for a reply during repair (anti-entropy digests and pages, hint replay, reaping). */
  readonly repairTimeoutMs: number;
  /** Most hints kept on this peer; a hint that does not fit is dropped and its slot marked under-replicated. */
  readonly hintsMax: number;
  /** Age after which an undelivered hint is discarded (anti-entropy repairs what it carried). */
  readonly hintTtlMs: number;
  /** How long an idempotency record answers retries. */
  readonly idempotencyTtlMs: number;
  /**
   * Minimum age of a tombstone before the reaper may remove it (after every
   * owner confirmed it). Keep it above `hintTtlMs`, so no hint carrying an
   * older version can arrive after the reap and resurrect the value.
   */
  readonly tombstoneGraceMs: number;
  /** Greatest forward jump accepted from a peer's Lamport clock. */
  readonly clockJumpMax: number;
  /**
   * How long a slot must have been unowned by this peer before `reclaimUnowned`
   * hands its records to the owners and drops them here: longer than the new
   * owners' after-commit catch-up copy, which reads from the old owners.
   */
  readonly reclaimAfterMs: number;
  /**
   * Most record sends to other owners in flight from this peer's writes.
   * A write whose quorum is in leaves the rest of its fan-out running; at
   * this bound new writes wait until half of it has drained, so a client
   * writing faster than the owners absorb (`one`, or W < N) is slowed
   * instead of piling up sends that time out into hints. Soft: writes that
   * pass the check together each add their sends.
   */
  readonly fanOutInFlightMax: number;
}

export const defaultReplicatorLimits: ReplicatorLimits = {
  requestTimeoutMs: 2_000,
  fanOutInFlightMax: 4096,
  readHedgeMs: 250,
  repairTimeoutMs: 30_000,
  hintsMax: 100_000,
  hintTtlMs: 24 * 3600_000,
  idempotencyTtlMs: 24 * 3600_000,
  tombstoneGraceMs: 48 * 3600_000,
  clockJumpMax: CLOCK_JUMP_MAX_DEFAULT,
  reclaimAfterMs: 5 * 60_000,
};
