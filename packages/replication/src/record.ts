/**
 * A key's versions on one replica: the siblings no other known version has
 * superseded, each a core dotted version (`Version` from @tessera/core's
 * dvv.ts). Dots are minted only by owners (the write's coordinating
 * replica), so contexts grow with owners, not clients. Causality, sync and
 * the winner are core's; this file adds only the replication policy: what a
 * version carries, the sibling bound, and the version hash anti-entropy
 * compares.
 */

import {
  compareDots,
  compareStamps,
  type Version as DvvVersion,
  joinContext,
  syncVersions,
  updateVersions,
  type VersionVector,
  winner,
} from '@tessera/core';
import { Hash64 } from './bytes.ts';
import { siblingsMax, versionVectorEntriesMax } from './limits.ts';

/** What one version of a key holds. */
export interface Payload {
  /** The value bytes; null for a tombstone. */
  readonly bytes: Uint8Array | null;
  /** The minting owner's wall clock, used only for tombstone grace and ages. */
  readonly mintedMs: number;
}

/** One sibling: a core version whose value is a {@link Payload}. */
export type Sibling = DvvVersion<Payload>;

/**
 * Everything a replica knows about one key: 1..`siblingsMax` siblings, sorted
 * by dot (core's canonical order), none covered by another's context.
 */
export type ReplicaRecord = readonly Sibling[];

/** Orders siblings as `winner` does: stamp, then dot. */
export function compareSiblings(a: Sibling, b: Sibling): number {
  return compareStamps(a.stamp, b.stamp) || compareDots(a.dot, b.dot);
}

/**
 * Applies `siblingsMax`: beyond it the lowest-ranked losers are dropped.
 * A version's stamp is above every version it supersedes (the minter's
 * Lamport clock has received them), so anything a dropped sibling superseded
 * ranks lower still and is dropped too: replicas keep converging.
 */
function bounded(siblings: Sibling[]): Sibling[] {
  if (siblings.length <= siblingsMax) return siblings;
  const kept = new Set([...siblings].sort((a, b) => compareSiblings(b, a)).slice(0, siblingsMax));
  return siblings.filter((sibling) => kept.has(sibling));
}

/** What the coordinating owner needs to mint a version. */
export interface MintInput {
  /** The minting owner's replica id: node id plus incarnation. */
  readonly actor: string;
  /**
   * The owner's Lamport clock, already advanced past every stamp and
   * counter in `local` and `context`: both the stamp and the lowest dot
   * counter, so a dot is never minted twice even after the owner lost the
   * key's history.
   */
  readonly clock: number;
  readonly payload: Payload;
  /** What the writer saw (a read's context); default: everything `local` has seen. */
  readonly context?: VersionVector;
}

/** The record after minting a new version on top of `local`, and that version. */
export function mint(local: ReplicaRecord, input: MintInput): { record: ReplicaRecord; sibling: Sibling } {
  const { siblings, version } = updateVersions(
    local,
    input.context ?? joinContext(local),
    input.actor,
    input.payload,
    { clock: input.clock, node: input.actor },
    { entriesMax: versionVectorEntriesMax, counterMin: input.clock },
  );
  return { record: bounded(siblings), sibling: version };
}

/**
 * Joins two replicas' knowledge of one key (core `syncVersions`, then the
 * sibling bound). Commutative, associative and idempotent, so replicas
 * converge whatever order repairs arrive in.
 */
export function merge(a: ReplicaRecord | undefined, b: ReplicaRecord | undefined): ReplicaRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  return bounded(syncVersions(a, b));
}

/** The version every replica agrees wins (core `winner`: stamp, then dot). */
export function winnerOf(record: ReplicaRecord): Sibling {
  return winner(record)!;
}

/** The siblings that lose to the winner, highest first. */
export function losersOf(record: ReplicaRecord): Sibling[] {
  const best = winnerOf(record);
  return record.filter((sibling) => sibling !== best).sort((a, b) => compareSiblings(b, a));
}

/** True when every sibling is a tombstone (the record may be reaped once every owner has it). */
export function isTombstoneOnly(record: ReplicaRecord): boolean {
  return record.every((sibling) => sibling.value.bytes === null);
}

/**
 * The highest Lamport value in the record (stamps, dots and contexts), to
 * advance a clock past it before minting on top of it.
 */
export function maxClock(record: ReplicaRecord): number {
  let max = 0;
  for (const sibling of record) {
    max = Math.max(max, sibling.stamp.clock, sibling.dot.counter, maxCounter(sibling.context));
  }
  return max;
}

/** The highest counter in a version vector. */
export function maxCounter(vv: VersionVector): number {
  let max = 0;
  for (const counter of Object.values(vv)) max = Math.max(max, counter);
  return max;
}

/**
 * A digest of the record's causal state: its sibling dots, in order. A dot
 * names exactly one version (value, context, stamp), so two replicas with
 * equal hashes hold the same versions.
 */
export function versionHash(record: ReplicaRecord): Uint8Array {
  // Records are immutable and one is hashed several times per operation (apply, store, read repair).
  const known = versionHashes.get(record);
  if (known) return known;
  const hash = new Hash64();
  for (const sibling of record) hash.updateString(sibling.dot.replica).updateNumber(sibling.dot.counter);
  const digest = hash.digest();
  versionHashes.set(record, digest);
  return digest;
}

const versionHashes = new WeakMap<ReplicaRecord, Uint8Array>();
