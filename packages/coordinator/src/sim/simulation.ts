/**
 * A deterministic in-process cluster: many peers, one simulated clock, a
 * `Network` per peer with seeded delays, drops, duplicates (reordering
 * follows from random delays) and partitions that can be set and healed,
 * and an in-memory store per peer that survives crashes and restarts.
 */
import { openMemoryStore, type Store } from '@tessera/storage';
import type { Network, PeerIdString, Random, Timers } from '../env.ts';
import { Prng } from './prng.ts';
import { Scheduler } from './scheduler.ts';

/** Network faults; every field can be changed mid-run with `setFaults`. */
export interface SimulationFaults {
  /** Least one-way delay of a frame, ms. */
  readonly delayMsMin: number;
  /** Most one-way delay of a frame, ms. */
  readonly delayMsMax: number;
  /** Probability that one delivery (one recipient of a broadcast, or one leg of a request) is lost. */
  readonly dropRate: number;
  /** Probability that a broadcast delivery arrives twice. */
  readonly duplicateRate: number;
}

export interface SimulationOptions extends Partial<SimulationFaults> {
  /** The run's seed; the same seed and the same test code replay the same run. */
  readonly seed: number;
}

/** What a simulated peer gets: the four things a coordinator needs. */
export interface SimPeer {
  readonly id: PeerIdString;
  readonly network: Network;
  readonly timers: Timers;
  readonly random: Random;
  readonly store: Store;
}

/** Traffic one peer sent and received, in frames and bytes. */
export interface SimTraffic {
  broadcastsSent: number;
  broadcastBytesSent: number;
  broadcastBytesReceived: number;
  requestsSent: number;
  /** Requests that timed out (lost on the way there or back, or unreachable). */
  requestsTimedOut: number;
  requestBytesSent: number;
  responseBytesSent: number;
}

const DEFAULT_FAULTS: SimulationFaults = { delayMsMin: 1, delayMsMax: 50, dropRate: 0, duplicateRate: 0 };

/** Thrown (as a rejection) by a simulated request that timed out. */
export class SimRequestTimeoutError extends Error {
  constructor(peer: string) {
    super(`request to ${peer} timed out`);
    this.name = 'SimRequestTimeoutError';
  }
}

interface Node {
  readonly id: PeerIdString;
  store: Store;
  readonly random: Prng;
  /** Bumped on crash and restart; frames addressed to an older epoch are lost. */
  epoch: number;
  online: boolean;
  group: number;
  onBroadcast: ((data: Uint8Array, from: PeerIdString) => void) | null;
  onRequest: ((data: Uint8Array, from: PeerIdString) => Promise<Uint8Array>) | null;
  traffic: SimTraffic;
}

/** Picks a seed: `TESSERA_SIM_SEED` when set (to replay a run), else a fresh one. */
export function simulationSeed(fallback?: number): number {
  const env = typeof process !== 'undefined' ? process.env.TESSERA_SIM_SEED : undefined;
  if (env !== undefined && env !== '') {
    const seed = Number(env);
    if (!Number.isSafeInteger(seed) || seed < 0)
      throw new RangeError(`TESSERA_SIM_SEED must be an integer, got ${env}`);
    return seed >>> 0;
  }
  return fallback ?? Math.floor(Math.random() * 2 ** 32);
}

export class Simulation {
  readonly seed: number;
  readonly scheduler = new Scheduler();
  readonly #random: Prng;
  readonly #nodes = new Map<PeerIdString, Node>();
  #faults: SimulationFaults;

  constructor(options: SimulationOptions) {
    this.seed = options.seed >>> 0;
    this.#random = new Prng(this.seed);
    this.#faults = { ...DEFAULT_FAULTS, ...options };
  }

  /** Simulated milliseconds since the run began. */
  get now(): number {
    return this.scheduler.now;
  }

  /** Errors thrown by timer callbacks; a correct run has none. */
  get errors(): readonly unknown[] {
    return this.scheduler.errors;
  }

  get faults(): SimulationFaults {
    return this.#faults;
  }

  setFaults(faults: Partial<SimulationFaults>): void {
    this.#faults = { ...this.#faults, ...faults };
  }

  /** A generator derived from the run's seed, for test code that needs its own randomness. */
  fork(): Prng {
    return this.#random.fork();
  }

  /** Ids of every peer ever added, in insertion order. */
  get ids(): PeerIdString[] {
    return [...this.#nodes.keys()];
  }

  /** Adds a peer with a fresh in-memory store. */
  async addPeer(id: PeerIdString): Promise<SimPeer> {
    if (this.#nodes.has(id)) throw new Error(`peer ${id} already exists`);
    const node: Node = {
      id,
      store: await openMemoryStore(),
      random: this.#random.fork(),
      epoch: 0,
      online: true,
      group: 0,
      onBroadcast: null,
      onRequest: null,
      traffic: {
        broadcastsSent: 0,
        broadcastBytesSent: 0,
        broadcastBytesReceived: 0,
        requestsSent: 0,
        requestsTimedOut: 0,
        requestBytesSent: 0,
        responseBytesSent: 0,
      },
    };
    this.#nodes.set(id, node);
    return this.#env(node);
  }

  /** Stops a peer dead: its timers vanish, frames to and from it are lost. Its store survives. */
  crash(id: PeerIdString): void {
    const node = this.#node(id);
    node.online = false;
    node.epoch += 1;
    node.onBroadcast = null;
    node.onRequest = null;
    this.scheduler.cancelOwner(id);
  }

  /** Brings a crashed peer back with the same id and store (or, `wiped`, an empty one) and a fresh network. */
  async restart(id: PeerIdString, options: { wiped?: boolean } = {}): Promise<SimPeer> {
    const node = this.#node(id);
    if (node.online) throw new Error(`peer ${id} is running`);
    if (options.wiped) node.store = await openMemoryStore();
    node.online = true;
    node.epoch += 1;
    return this.#env(node);
  }

  /** Splits the network: peers in different groups cannot reach each other. Unlisted peers form one more group. */
  partition(groups: readonly (readonly PeerIdString[])[]): void {
    for (const node of this.#nodes.values()) node.group = groups.length;
    groups.forEach((ids, g) => {
      for (const id of ids) this.#node(id).group = g;
    });
  }

  /** Removes every partition. */
  heal(): void {
    for (const node of this.#nodes.values()) node.group = 0;
  }

  traffic(id: PeerIdString): Readonly<SimTraffic> {
    return { ...this.#node(id).traffic };
  }

  runFor(ms: number): Promise<void> {
    return this.scheduler.runFor(ms);
  }

  /**
   * Runs until `predicate` holds (checked every `checkEveryMs` of simulated
   * time) or `timeMsMax` passes; resolves with whether it held.
   */
  async runUntil(
    predicate: () => boolean | Promise<boolean>,
    options: { timeMsMax: number; checkEveryMs?: number },
  ): Promise<boolean> {
    const end = this.now + options.timeMsMax;
    const every = options.checkEveryMs ?? 100;
    for (;;) {
      if (await predicate()) return true;
      if (this.now >= end) return false;
      await this.runFor(Math.min(every, end - this.now));
    }
  }

  #node(id: PeerIdString): Node {
    const node = this.#nodes.get(id);
    if (!node) throw new Error(`no peer ${id}`);
    return node;
  }

  #reachable(a: Node, b: Node): boolean {
    return a.online && b.online && a.group === b.group;
  }

  #delay(rng: Prng): number {
    return rng.between(this.#faults.delayMsMin, this.#faults.delayMsMax);
  }

  #env(node: Node): SimPeer {
    const epoch = node.epoch;
    const rng = node.random;
    const live = () => node.online && node.epoch === epoch;
    /** Delivers `fn` to `to` after a delay if the link still holds then. */
    const deliver = (to: Node, delayMs: number, fn: () => void) => {
      const toEpoch = to.epoch;
      this.scheduler.after(delayMs, () => {
        if (to.epoch !== toEpoch || !live() || !this.#reachable(node, to)) return;
        fn();
      });
    };

    const network: Network = {
      selfId: node.id,
      broadcast: (data) => {
        if (!live()) return;
        const frame = data.slice();
        node.traffic.broadcastsSent += 1;
        node.traffic.broadcastBytesSent += frame.byteLength;
        for (const to of this.#nodes.values()) {
          if (to === node || !this.#reachable(node, to)) continue;
          const copies = rng.chance(this.#faults.dropRate)
            ? 0
            : rng.chance(this.#faults.duplicateRate)
              ? 2
              : 1;
          for (let k = 0; k < copies; k++) {
            deliver(to, this.#delay(rng), () => {
              to.traffic.broadcastBytesReceived += frame.byteLength;
              to.onBroadcast?.(frame, node.id);
            });
          }
        }
      },
      onBroadcast: (handler) => {
        if (live()) node.onBroadcast = handler;
      },
      request: (peer, data, options) =>
        new Promise<Uint8Array>((resolve, reject) => {
          if (!live()) {
            reject(new Error('peer is not running'));
            return;
          }
          const to = this.#nodes.get(peer);
          let settled = false;
          const timeout = this.scheduler.after(
            options?.timeoutMs ?? 10_000,
            () => {
              if (settled) return;
              settled = true;
              node.traffic.requestsTimedOut += 1;
              reject(new SimRequestTimeoutError(peer));
            },
            node.id,
          );
          node.traffic.requestsSent += 1;
          node.traffic.requestBytesSent += data.byteLength;
          if (!to || !this.#reachable(node, to) || rng.chance(this.#faults.dropRate)) return;
          const request = data.slice();
          deliver(to, this.#delay(rng), () => {
            const handler = to.onRequest;
            if (!handler) return;
            const responder = this.#nodes.get(to.id)!;
            handler(request, node.id).then(
              (response) => {
                const bytes = response.slice();
                responder.traffic.responseBytesSent += bytes.byteLength;
                if (rng.chance(this.#faults.dropRate)) return;
                const back = this.#delay(rng);
                this.scheduler.after(back, () => {
                  if (settled || !live() || !this.#reachable(node, to)) return;
                  settled = true;
                  this.scheduler.cancel(timeout);
                  resolve(bytes);
                });
              },
              (error: unknown) => {
                this.scheduler.after(this.#delay(rng), () => {
                  if (settled) return;
                  settled = true;
                  this.scheduler.cancel(timeout);
                  reject(error);
                });
              },
            );
          });
        }),
      onRequest: (handler) => {
        if (live()) node.onRequest = handler;
      },
      connectedPeers: () =>
        live()
          ? [...this.#nodes.values()].filter((p) => p !== node && this.#reachable(node, p)).map((p) => p.id)
          : [],
    };
    return {
      id: node.id,
      network,
      timers: this.scheduler.timersFor(node.id),
      random: rng.fork(),
      store: node.store,
    };
  }
}
