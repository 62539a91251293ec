/**
 * What the coordinator needs from the world, and nothing more. libp2p
 * implements `Network` in production; the simulator implements all three
 * with seeded delays, drops, duplicates and partitions.
 */

/** A peer's id as a string (a libp2p PeerId's string form in production). */
export type PeerIdString = string;

/** Best-effort broadcast plus request/response to one peer. */
export interface Network {
  /** This peer's id. */
  readonly selfId: PeerIdString;
  /** Publishes `data` on the cluster's gossip topic. Best effort: it may be lost. */
  broadcast(data: Uint8Array): void;
  /**
   * Registers the gossip handler. `from` is the transport-verified sender
   * (the gossipsub signer), never a field read from `data`.
   */
  onBroadcast(handler: (data: Uint8Array, from: PeerIdString) => void): void;
  /** Sends one request to `peer` and resolves with its response; rejects on timeout or disconnect. */
  request(peer: PeerIdString, data: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array>;
  /** Registers the request handler; `from` is the transport-verified sender. */
  onRequest(handler: (data: Uint8Array, from: PeerIdString) => Promise<Uint8Array>): void;
  /** Peers this peer has a live connection to now. */
  connectedPeers(): PeerIdString[];
}

/** An opaque timer handle. */
export type TimerHandle = unknown;

/** Time and timers; simulated time in tests. */
export interface Timers {
  /** Milliseconds since some fixed origin. */
  now(): number;
  setTimeout(fn: () => void, delayMs: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Randomness; seeded in tests so a run replays. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
}
