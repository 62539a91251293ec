/**
 * The leave of a running `tessera start` peer, as its HTTP API drives and
 * reports it: one `peer.leave()` at a time, its last progress kept for
 * `GET /v1/cluster/leave`, and a `left` promise the process waits on to
 * shut down and exit 0.
 */
import type { LeaveProgress, LeaveResult, Peer } from '@tessera/peer';

/** `serving` before any leave; `failed` after one that could not finish (the peer serves on). */
export type LeaveStatePhase = 'serving' | LeaveProgress['phase'] | 'failed';

/** Body of `GET /v1/cluster/leave` (`leave` field). */
export interface LeaveState {
  readonly phase: LeaveStatePhase;
  readonly epoch: number;
  readonly slots_owned: number;
  readonly owners: number;
  readonly jobs: readonly {
    peer: string;
    id: string;
    kind: string;
    status: string;
    done: number;
    total: number;
  }[];
  /** Why the last leave failed (phase `failed`). */
  readonly error: string | null;
  /** The first committed map without this peer, once there is one. */
  readonly result: { epoch: number; owners: number } | null;
}

export class LeaveControl {
  readonly #peer: Peer;
  #phase: LeaveStatePhase = 'serving';
  #progress: LeaveProgress | null = null;
  #error: string | null = null;
  #result: LeaveResult | null = null;
  #running: Promise<void> | null = null;
  #resolveLeft!: (result: LeaveResult) => void;
  /** Resolves once a leave finished and the peer stopped. */
  readonly left: Promise<LeaveResult>;

  constructor(peer: Peer) {
    this.#peer = peer;
    this.left = new Promise((resolve) => {
      this.#resolveLeft = resolve;
    });
  }

  /** Starts a leave (or joins the one running); resolves once the peer announced it, rejects when refused. */
  start(options: { timeoutMs?: number }): Promise<void> {
    this.#running ??= new Promise<void>((accepted, refused) => {
      let announced = false;
      this.#peer
        .leave({
          ...options,
          onProgress: (progress) => {
            this.#progress = progress;
            this.#phase = progress.phase;
            if (progress.phase !== 'draining' && this.#result === null) {
              this.#result = { epoch: progress.epoch, owners: progress.owners };
            }
            if (!announced) {
              announced = true;
              this.#error = null;
              accepted();
            }
          },
        })
        .then(
          (result) => {
            this.#result = result;
            this.#resolveLeft(result);
          },
          (error: unknown) => {
            this.#running = null;
            if (!announced) {
              refused(error);
              return;
            }
            this.#phase = 'failed';
            this.#error = error instanceof Error ? error.message : String(error);
          },
        );
    });
    return this.#running;
  }

  state(): LeaveState {
    const p = this.#progress;
    const map = this.#peer.slotMap.map;
    const me = this.#peer.id;
    let slotsOwned = 0;
    const owners = new Set<string>();
    for (const r of map.ranges) {
      for (const o of r.owners) owners.add(o);
      if (r.owners.includes(me)) slotsOwned += r.end - r.start + 1;
    }
    return {
      phase: this.#phase,
      epoch: map.epoch,
      slots_owned: slotsOwned,
      owners: owners.size,
      jobs: p?.jobs ?? [],
      error: this.#error,
      result: this.#result,
    };
  }
}
