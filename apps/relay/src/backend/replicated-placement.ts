/**
 * A provisional slot map for `tessera start` until the coordinator's slot
 * map (PREPARE/COMMIT, epochs, migration) is wired into the peer: every
 * owner-role member that has not left, sorted by id, split into contiguous
 * slot ranges; slot s starts at member floor(s·k/16384) and takes the next
 * ones in order. Every peer with the same membership view computes the
 * same owners. What it does NOT do: move data when membership changes
 * (anti-entropy only compares current co-owners), so with more owners than
 * N a join can leave keys on peers that no longer own them.
 */
import type { Member } from '@tessera/coordinator';
import { SLOT_COUNT } from '@tessera/core';

/** Statuses of members that are gone for good and own nothing. */
const GONE = new Set<Member['status']>(['exiting', 'removed', 'aborted', 'leaving']);
/** How long a computed owner list is reused, ms (membership changes are seconds apart). */
export const OWNERS_CACHE_MS = 250;

export interface SlotOwnersView {
  readonly owners: readonly string[];
  readonly epoch: number;
}

export class MembershipSlots {
  readonly #members: () => readonly Member[];
  readonly #now: () => number;
  #owners: readonly string[] = [];
  #signature = '';
  #computedAtMs = Number.NEGATIVE_INFINITY;
  /** Bumped whenever the owner set changes. */
  epoch = 0;

  constructor(members: () => readonly Member[], now: () => number = Date.now) {
    this.#members = members;
    this.#now = now;
  }

  /** The owner ids in order, recomputed at most every `OWNERS_CACHE_MS`. */
  ownerIds(): readonly string[] {
    if (this.#now() - this.#computedAtMs >= OWNERS_CACHE_MS) {
      const owners = this.#members()
        .filter((m) => m.role === 'owner' && !GONE.has(m.status))
        .map((m) => m.id)
        .sort();
      const signature = owners.join(',');
      if (signature !== this.#signature) {
        this.#signature = signature;
        this.#owners = owners;
        this.epoch++;
      }
      this.#computedAtMs = this.#now();
    }
    return this.#owners;
  }

  lookup(slot: number): SlotOwnersView {
    const ids = this.ownerIds();
    const k = ids.length;
    if (k === 0) return { owners: [], epoch: this.epoch };
    const first = Math.floor((slot * k) / SLOT_COUNT);
    const owners: string[] = [];
    for (let i = 0; i < k; i++) owners.push(ids[(first + i) % k]!);
    return { owners, epoch: this.epoch };
  }

  /** Inclusive slot ranges, each with its owners in order (for status and CLUSTER SLOTS). */
  ranges(): { start: number; end: number; owners: readonly string[] }[] {
    const k = this.ownerIds().length;
    if (k === 0) return [];
    const ranges: { start: number; end: number; owners: readonly string[] }[] = [];
    for (let i = 0; i < k; i++) {
      const start = Math.ceil((i * SLOT_COUNT) / k);
      const end = Math.ceil(((i + 1) * SLOT_COUNT) / k) - 1;
      if (end >= start) ranges.push({ start, end, owners: this.lookup(start).owners });
    }
    return ranges;
  }
}
