/**
 * Replication's `Placement` for a peer: slot ownership from a slot lookup
 * (the coordinator's slot map once it is exported; a fixed map in tests)
 * and liveness from the coordinator's membership view.
 */
import type { Coordinator, Member } from '@tessera/coordinator';
import type { Placement, SlotOwners } from '@tessera/replication';

/** Where a slot lives; `Placement.lookup` without the liveness half. */
export interface SlotLookup {
  lookup(slot: number): SlotOwners;
  /** Changes whenever some `lookup` answer may have changed (see `Placement.generation`). */
  generation?(): number | undefined;
  /** Owners of `slot` in a change in flight that moves it, else null (see `Placement.pending`). */
  pending?(slot: number): SlotOwners | null;
}

/** No slot map yet: every slot has no owners, so every read and write is `QuorumNotReachedError`. */
export const NO_SLOT_MAP: SlotLookup = {
  lookup: () => ({ owners: [], epoch: 0 }),
};

/** Statuses under which a member is not sent reads or writes (its writes become hints at once). */
const NOT_SERVING = new Set<Member['status']>(['down', 'exiting', 'removed', 'aborted']);

/** Whether a member should be sent reads and writes. */
export function servingMember(member: Member): boolean {
  return member.liveness !== 'down' && !NOT_SERVING.has(member.status);
}

/**
 * A `Placement` whose `isUp` follows the membership view. A peer the view
 * does not know yet counts as up: `isUp` is advisory, and a request to a
 * peer that is really gone times out and leaves a hint.
 */
export class MembershipPlacement implements Placement {
  readonly #selfId: string;
  readonly #down = new Set<string>();
  readonly #unsubscribe: () => void;
  #slots: SlotLookup;
  /** Bumped when `slots` is replaced, so `generation` changes with the lookup itself. */
  #swaps = 0;

  constructor(coordinator: Coordinator, selfId: string, slots: SlotLookup) {
    this.#selfId = selfId;
    this.#slots = slots;
    for (const member of coordinator.members()) this.#update(member);
    this.#unsubscribe = coordinator.on('member', ({ member }) => this.#update(member));
  }

  #update(member: Member): void {
    if (servingMember(member)) this.#down.delete(member.id);
    else this.#down.add(member.id);
  }

  get slots(): SlotLookup {
    return this.#slots;
  }

  set slots(slots: SlotLookup) {
    this.#slots = slots;
    this.#swaps += 1;
  }

  lookup(slot: number): SlotOwners {
    return this.#slots.lookup(slot);
  }

  generation(): number | undefined {
    const inner = this.#slots.generation?.();
    // Swaps are rare; inner generations count commits: both fit exactly in a double.
    return inner === undefined ? undefined : this.#swaps * 2 ** 32 + inner;
  }

  pending(slot: number): SlotOwners | null {
    return this.#slots.pending?.(slot) ?? null;
  }

  isUp(peer: string): boolean {
    return peer === this.#selfId || !this.#down.has(peer);
  }

  /** Stops following membership events. */
  close(): void {
    this.#unsubscribe();
  }
}
