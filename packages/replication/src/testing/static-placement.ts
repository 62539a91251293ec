/** A fixed slot map for tests: slot s is owned by the peers list rotated by s, the first `ownersPerSlot`. */
import type { Placement, SlotOwners } from '../placement.ts';
import type { PeerId } from '../transport.ts';

export class StaticPlacement implements Placement {
  readonly peers: readonly PeerId[];
  readonly ownersPerSlot: number;
  readonly #down = new Set<PeerId>();
  epoch = 1;

  constructor(peers: readonly PeerId[], ownersPerSlot: number) {
    this.peers = [...peers];
    this.ownersPerSlot = Math.min(ownersPerSlot, peers.length);
  }

  readonly #moved = new Map<number, readonly PeerId[]>();

  lookup(slot: number): SlotOwners {
    const moved = this.#moved.get(slot);
    if (moved) return { owners: [...moved], epoch: this.epoch };
    const owners: PeerId[] = [];
    for (let i = 0; i < this.ownersPerSlot; i++) owners.push(this.peers[(slot + i) % this.peers.length]!);
    return { owners, epoch: this.epoch };
  }

  isUp(peer: PeerId): boolean {
    return !this.#down.has(peer);
  }

  /** Gives `slot` a new owner list (a slot move; the data follows through repair) and bumps the epoch. */
  moveSlot(slot: number, owners: readonly PeerId[]): void {
    this.#moved.set(slot, [...owners]);
    this.epoch += 1;
  }

  readonly #pending = new Map<number, readonly PeerId[]>();

  pending(slot: number): SlotOwners | null {
    const owners = this.#pending.get(slot);
    return owners ? { owners: [...owners], epoch: this.epoch + 1 } : null;
  }

  /** A change in flight would give `slot` these owners (null: none in flight). */
  setPending(slot: number, owners: readonly PeerId[] | null): void {
    if (owners === null) this.#pending.delete(slot);
    else this.#pending.set(slot, [...owners]);
  }

  /** The membership view marks `peer` down (writes to it go straight to hints). */
  markDown(peer: PeerId): void {
    this.#down.add(peer);
  }

  markUp(peer: PeerId): void {
    this.#down.delete(peer);
  }
}
