/**
 * The one thing replication needs from the network: send a request frame to
 * a peer and get its reply. The peer package implements it over the libp2p
 * protocol `/tessera/replication/1.0.0` (length-prefixed CBOR frames, see
 * frames.ts); tests use `MemoryReplicaNetwork` from `./testing`.
 */

/** A peer's id as a string (a libp2p PeerId's string form in production). */
export type PeerId = string;

/** The libp2p protocol id a transport serves replication frames on. */
export const REPLICATION_PROTOCOL = '/tessera/replication/1.0.0';

/** Handles one request frame from `from` (transport-verified) and returns the reply frame. */
export type FrameHandler = (frame: Uint8Array, from: PeerId) => Promise<Uint8Array>;

/** How one request is sent. */
export interface RequestOptions {
  /** Reject when no reply arrived within this many milliseconds. */
  readonly timeoutMs: number;
  /**
   * The frame may be applied twice (no `mint` in it: reads, merges and
   * the other ops are idempotent). A transport may then send it once more
   * on a fresh connection when the one it went out on closed under it, as
   * a connection does when the relay it ran through dies.
   */
  readonly idempotent?: boolean;
}

/** Request/response to one peer at a time. */
export interface ReplicaTransport {
  /** This peer's id. */
  readonly selfId: PeerId;
  /**
   * Sends one request frame to `peer` and resolves with its reply frame.
   * @remarks Rejects when the peer is unreachable or does not answer within
   * `timeoutMs`. A rejection says nothing about whether the peer applied the
   * request: callers treat it as "not acknowledged", never as "not written".
   */
  request(peer: PeerId, frame: Uint8Array, options: RequestOptions): Promise<Uint8Array>;
  /** Registers the handler for incoming request frames (one per transport; a later call replaces it). */
  handle(handler: FrameHandler): void;
}
