/**
 * A key's versions on one replica: a dotted version vector set (Riak 2.0's
 * DVVSet). Dots are minted only by owners ("actors"), so the vector grows
 * with the owners that coordinated writes, not with clients.
 *
 * The dot counter is the minting actor's Lamport clock at mint time, so one
 * number is both the causal dot and the total-order stamp: among concurrent
 * siblings the winner is the highest (counter, actor), the same on every
 * replica. Counters of one actor only grow, so "covered by the vector" stays
 * `counter <= vv[actor]` even with gaps.
 */

import { compareStamps } from '@tessera/core';
import { Hash64 } from './bytes.ts';
import { siblingsMax, versionVectorEntriesMax } from './limits.ts';

/** One concurrent version of a key. */
export interface Sibling {
  /** The owner that minted this version (node id plus incarnation). */
  readonly actor: string;
  /** The actor's Lamport clock when it minted this version; with `actor`, the dot. */
  readonly counter: number;
  /** The minting actor's wall clock, used only for tombstone grace and idempotency ages. */
  readonly mintedMs: number;
  /** True for a tombstone. */
  readonly deleted: boolean;
  /** The value bytes; absent for a tombstone. */
  readonly value?: Uint8Array;
}

/** A version vector: (actor, max counter seen), sorted by actor. */
export type VersionVector = ReadonlyArray<readonly [string, number]>;

/** Everything a replica knows about one key. */
export interface ReplicaRecord {
  /** Every event this replica has seen for the key (siblings' dots included). */
  readonly vv: VersionVector;
  /** Versions not yet superseded, winner first. Never empty. */
  readonly siblings: readonly Sibling[];
}

/** The stamp a sibling is ordered by. */
export function stampOf(sibling: Sibling): { clock: number; node: string } {
  return { clock: sibling.counter, node: sibling.actor };
}

function bySiblingStampDesc(a: Sibling, b: Sibling): number {
  return compareStamps(stampOf(b), stampOf(a));
}

function vvMap(vv: VersionVector): Map<string, number> {
  return new Map(vv.map(([actor, counter]) => [actor, counter]));
}

function covered(sibling: Sibling, vv: Map<string, number>): boolean {
  return sibling.counter <= (vv.get(sibling.actor) ?? 0);
}

function joinVectors(a: VersionVector, b: VersionVector): Map<string, number> {
  const out = vvMap(a);
  for (const [actor, counter] of b) out.set(actor, Math.max(out.get(actor) ?? 0, counter));
  return out;
}

/** Sorts, dedupes and applies `siblingsMax` / `versionVectorEntriesMax`. */
function normalize(vv: Map<string, number>, siblings: Sibling[]): ReplicaRecord {
  const byDot = new Map<string, Sibling>();
  for (const sibling of siblings) byDot.set(`${sibling.counter}\u0000${sibling.actor}`, sibling);
  const kept = [...byDot.values()].sort(bySiblingStampDesc).slice(0, siblingsMax);
  let entries = [...vv.entries()];
  if (entries.length > versionVectorEntriesMax) {
    // Entries that back a sibling must stay; of the rest, the oldest go first.
    const needed = new Set(kept.map((sibling) => sibling.actor));
    const optional = entries.filter(([actor]) => !needed.has(actor)).sort((x, y) => y[1] - x[1]);
    const room = Math.max(0, versionVectorEntriesMax - needed.size);
    entries = [...entries.filter(([actor]) => needed.has(actor)), ...optional.slice(0, room)];
  }
  entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return { vv: entries, siblings: kept };
}

/** What a new write replaces: by default everything the minting owner has seen. */
export interface MintInput {
  readonly actor: string;
  readonly counter: number;
  readonly mintedMs: number;
  readonly deleted: boolean;
  readonly value?: Uint8Array;
  /** The causal context the writer saw (from a read); default: the local record's vector. */
  readonly context?: VersionVector;
}

/**
 * The record after minting a new version on top of `local`.
 * @remarks The caller guarantees `counter` is above every counter of
 * `actor` already in `local` (its Lamport clock has received them).
 */
export function mint(
  local: ReplicaRecord | undefined,
  input: MintInput,
): { record: ReplicaRecord; sibling: Sibling } {
  const localVv = local?.vv ?? [];
  const context = vvMap(input.context ?? localVv);
  const survivors = (local?.siblings ?? []).filter((sibling) => !covered(sibling, context));
  const sibling: Sibling = input.deleted
    ? { actor: input.actor, counter: input.counter, mintedMs: input.mintedMs, deleted: true }
    : {
        actor: input.actor,
        counter: input.counter,
        mintedMs: input.mintedMs,
        deleted: false,
        value: input.value ?? new Uint8Array(0),
      };
  const vv = joinVectors(localVv, input.context ?? []);
  vv.set(input.actor, Math.max(vv.get(input.actor) ?? 0, input.counter));
  return { record: normalize(vv, [sibling, ...survivors]), sibling };
}

/**
 * Joins two replicas' knowledge of one key. Commutative, associative and
 * idempotent (below the sibling and vector bounds), so replicas converge
 * whatever order repairs arrive in.
 */
export function merge(a: ReplicaRecord | undefined, b: ReplicaRecord | undefined): ReplicaRecord | undefined {
  if (!a) return b;
  if (!b) return a;
  const aVv = vvMap(a.vv);
  const bVv = vvMap(b.vv);
  const bDots = new Set(b.siblings.map((s) => `${s.counter}\u0000${s.actor}`));
  const aDots = new Set(a.siblings.map((s) => `${s.counter}\u0000${s.actor}`));
  const siblings = [
    ...a.siblings.filter((s) => bDots.has(`${s.counter}\u0000${s.actor}`) || !covered(s, bVv)),
    ...b.siblings.filter((s) => !aDots.has(`${s.counter}\u0000${s.actor}`) && !covered(s, aVv)),
  ];
  return normalize(joinVectors(a.vv, b.vv), siblings);
}

/** The version every replica agrees wins: highest (counter, actor). */
export function winnerOf(record: ReplicaRecord): Sibling {
  return record.siblings[0]!;
}

/** True when every sibling is a tombstone (the record may be reaped once every owner has it). */
export function isTombstoneOnly(record: ReplicaRecord): boolean {
  return record.siblings.every((sibling) => sibling.deleted);
}

/** The highest counter in the record (to advance a Lamport clock past it). */
export function maxCounter(record: ReplicaRecord | undefined): number {
  let max = 0;
  for (const [, counter] of record?.vv ?? []) max = Math.max(max, counter);
  return max;
}

/**
 * A digest of the record's causal state (vector and sibling dots). Two
 * replicas with equal hashes hold the same versions; values need not be
 * hashed because a dot names exactly one value.
 */
export function versionHash(record: ReplicaRecord): Uint8Array {
  const hash = new Hash64();
  for (const [actor, counter] of record.vv) hash.updateString(actor).updateNumber(counter);
  hash.updateNumber(-1);
  for (const sibling of record.siblings) {
    hash
      .updateString(sibling.actor)
      .updateNumber(sibling.counter)
      .updateNumber(sibling.deleted ? 1 : 0);
  }
  return hash.digest();
}
