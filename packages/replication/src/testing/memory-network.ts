/**
 * An in-process network of ReplicaTransports for tests: seeded random
 * delays, lost requests, lost replies (applied but never acknowledged),
 * stopped peers and partitions. A request that gets no reply rejects after
 * its `timeoutMs`, like a real transport.
 */
import { TesseraError } from '@tessera/core';
import type { FrameHandler, PeerId, ReplicaTransport } from '../transport.ts';

/** Thrown by the memory network when a request gets no reply in time. */
export class MemoryRequestTimeoutError extends TesseraError {
  constructor(peer: PeerId, timeoutMs: number) {
    super(`request to ${peer} got no reply in ${timeoutMs} ms`, 'ERR_REQUEST_TIMEOUT');
  }
}

/** A small seeded PRNG (mulberry32), so a failing run replays from its seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface MemoryNetworkOptions {
  readonly seed: number;
  /** Each delivery and each reply waits 0..delayMsMax ms. */
  readonly delayMsMax?: number;
  /** Probability a request is lost before delivery. */
  readonly requestDropRate?: number;
  /** Probability a reply is lost after the handler ran. */
  readonly replyDropRate?: number;
}

export class MemoryReplicaNetwork {
  readonly seed: number;
  readonly random: () => number;
  delayMsMax: number;
  requestDropRate: number;
  replyDropRate: number;
  readonly #handlers = new Map<PeerId, FrameHandler>();
  readonly #stopped = new Set<PeerId>();
  #groups: PeerId[][] | undefined;
  /** Frames delivered to handlers (for tests that count traffic). */
  delivered = 0;

  constructor(options: MemoryNetworkOptions) {
    this.seed = options.seed;
    this.random = seededRandom(options.seed);
    this.delayMsMax = options.delayMsMax ?? 0;
    this.requestDropRate = options.requestDropRate ?? 0;
    this.replyDropRate = options.replyDropRate ?? 0;
  }

  /** The transport of peer `id`. */
  transport(id: PeerId): ReplicaTransport {
    return {
      selfId: id,
      handle: (handler) => {
        this.#handlers.set(id, handler);
      },
      request: (peer, frame, { timeoutMs }) => this.#request(id, peer, frame, timeoutMs),
    };
  }

  /** The peer stops responding (and its own requests get no reply): a crash without losing its store. */
  stop(id: PeerId): void {
    this.#stopped.add(id);
  }

  resume(id: PeerId): void {
    this.#stopped.delete(id);
  }

  /** Only peers in the same group can reach each other until `heal()`. */
  partition(groups: PeerId[][]): void {
    this.#groups = groups.map((group) => [...group]);
  }

  heal(): void {
    this.#groups = undefined;
  }

  #reachable(from: PeerId, to: PeerId): boolean {
    if (this.#stopped.has(from) || this.#stopped.has(to)) return false;
    if (!this.#groups) return true;
    return this.#groups.some((group) => group.includes(from) && group.includes(to));
  }

  #delay(): Promise<void> {
    const ms = Math.floor(this.random() * (this.delayMsMax + 1));
    return ms === 0 ? Promise.resolve() : new Promise((resolve) => setTimeout(resolve, ms));
  }

  #request(from: PeerId, to: PeerId, frame: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = setTimeout(() => {
        if (done) return;
        done = true;
        reject(new MemoryRequestTimeoutError(to, timeoutMs));
      }, timeoutMs);
      const answer = (reply: Uint8Array) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(reply);
      };
      const dropRequest = this.random() < this.requestDropRate;
      const dropReply = this.random() < this.replyDropRate;
      void (async () => {
        await this.#delay();
        const handler = this.#handlers.get(to);
        if (dropRequest || !handler || !this.#reachable(from, to)) return;
        this.delivered += 1;
        // A copy, so neither side can see the other mutate its buffer.
        const reply = await handler(frame.slice(), from);
        await this.#delay();
        if (dropReply || !this.#reachable(from, to)) return;
        answer(reply.slice());
      })();
    });
  }
}
