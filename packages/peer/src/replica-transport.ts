/**
 * Replication's `ReplicaTransport` over libp2p: protocol
 * `/tessera/replication/1.0.0`, one request and one reply per stream, each
 * one length-prefixed frame (`lpStream`, unsigned varint length) holding
 * replication's CBOR frame as is (docs/spec/replication.md). The frame
 * contents are checked by replication; this layer bounds sizes, time and
 * concurrency, and never lets a peer's bytes throw out of a handler.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { InvalidArgumentError, LimitExceededError, TesseraError } from '@tessera/core';
import {
  type FrameHandler,
  REPLICATION_PROTOCOL,
  type ReplicaTransport,
  type RequestOptions,
  frameBytesMax as replicationFrameBytesMax,
} from '@tessera/replication';
import { PeerStoppedError, PeerUnreachableError, RequestTimeoutError } from './errors.ts';
import type { TesseraLibp2p } from './libp2p-services.ts';
import { dialable } from './member-dialer.ts';
import {
  REPLICA_INBOUND_STREAMS_MAX_DEFAULT,
  REPLICA_OUTBOUND_STREAMS_MAX_DEFAULT,
  REPLICA_REQUESTS_IN_FLIGHT_MAX_DEFAULT,
  REPLICA_REQUESTS_QUEUED_MAX_DEFAULT,
} from './network-limits.ts';
import {
  abortable,
  ChannelClosedError,
  InboundChannel,
  OutboundChannel,
  StreamNotOpenedError,
} from './replica-streams.ts';

/** Bounds of the replication transport. */
export interface ReplicaTransportOptions {
  /** Largest request or reply frame in bytes; replication's `frameBytesMax` (4 MiB) by default. */
  readonly frameBytesMax?: number;
  /** Inbound replication streams open at once per connection (libp2p refuses more). */
  readonly inboundStreamsMax?: number;
  /** Outbound replication streams per connection libp2p allows. */
  readonly outboundStreamsMax?: number;
  /** Requests to one peer in flight at once; more wait in a queue (backpressure). */
  readonly requestsInFlightMax?: number;
  /** Requests to one peer waiting for a slot; beyond it a request fails at once with `LimitExceededError`. */
  readonly requestsQueuedMax?: number;
  /**
   * Addresses to dial a peer this node has no connection to (the member's
   * node-state addresses); only those ending in that peer's own `/p2p/<id>`
   * are used. Without it, libp2p's peer store must know the peer.
   */
  readonly addressesOf?: (peer: string) => readonly string[];
}

/** Counters for tests and metrics. */
export interface ReplicaTransportStats {
  /** Outbound requests answered. */
  requestsSent: number;
  /** Outbound requests that failed (timeout, unreachable, reset, queue full). */
  requestsFailed: number;
  /** Requests sent once more on a fresh stream: idempotent ones whose stream closed under them, any whose stream never opened. */
  requestsResent: number;
  /** Streams given up (or never opened) because nothing came back while another connection to the peer was open. */
  channelsStalled: number;
  /** Inbound requests answered. */
  requestsServed: number;
  /** Inbound streams aborted: oversized or truncated frame, timeout, reset, handler failure. */
  requestsRejected: number;
}

interface PeerQueue {
  inFlight: number;
  readonly waiting: (() => void)[];
}

/** `ReplicaTransport` over a started libp2p node. Call `start()` before use and `stop()` before stopping the node. */
export class Libp2pReplicaTransport implements ReplicaTransport {
  readonly selfId: string;
  readonly protocol = REPLICATION_PROTOCOL;
  readonly frameBytesMax: number;
  readonly inboundStreamsMax: number;
  readonly outboundStreamsMax: number;
  readonly requestsInFlightMax: number;
  readonly requestsQueuedMax: number;
  readonly stats: ReplicaTransportStats = {
    requestsSent: 0,
    requestsFailed: 0,
    requestsResent: 0,
    channelsStalled: 0,
    requestsServed: 0,
    requestsRejected: 0,
  };

  readonly #node: TesseraLibp2p;
  readonly #log: Logger;
  readonly #queues = new Map<string, PeerQueue>();
  readonly #channels = new Map<string, Promise<OutboundChannel>>();
  readonly #peerIds = new Map<string, ReturnType<typeof peerIdFromString>>();
  /** Connections a stream stalled on: new streams avoid them while another connection is open. */
  readonly #suspects = new WeakSet<Connection>();
  readonly #addressesOf: ((peer: string) => readonly string[]) | undefined;
  #handler: FrameHandler | undefined;
  #started = false;

  constructor(node: TesseraLibp2p, options: ReplicaTransportOptions = {}) {
    this.#node = node;
    this.#addressesOf = options.addressesOf;
    this.#log = node.logger.forComponent('tessera:replication');
    this.selfId = node.peerId.toString();
    this.frameBytesMax = positive('frameBytesMax', options.frameBytesMax ?? replicationFrameBytesMax);
    this.inboundStreamsMax = positive(
      'inboundStreamsMax',
      options.inboundStreamsMax ?? REPLICA_INBOUND_STREAMS_MAX_DEFAULT,
    );
    this.outboundStreamsMax = positive(
      'outboundStreamsMax',
      options.outboundStreamsMax ?? REPLICA_OUTBOUND_STREAMS_MAX_DEFAULT,
    );
    this.requestsInFlightMax = Math.min(
      this.outboundStreamsMax,
      positive('requestsInFlightMax', options.requestsInFlightMax ?? REPLICA_REQUESTS_IN_FLIGHT_MAX_DEFAULT),
    );
    this.requestsQueuedMax = positive(
      'requestsQueuedMax',
      options.requestsQueuedMax ?? REPLICA_REQUESTS_QUEUED_MAX_DEFAULT,
    );
  }

  /** Registers the protocol. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    await this.#node.handle(this.protocol, (stream, connection) => this.#serve(stream, connection), {
      maxInboundStreams: this.inboundStreamsMax,
      maxOutboundStreams: this.outboundStreamsMax,
      // A browser client may reach an owner only through a relay until its
      // direct connection is up.
      runOnLimitedConnection: true,
    });
  }

  /** Unregisters the protocol; queued and later requests reject with `PeerStoppedError`. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    for (const queue of this.#queues.values()) for (const wake of queue.waiting.splice(0)) wake();
    const channels = [...this.#channels.values()];
    this.#channels.clear();
    for (const opening of channels)
      opening.then(
        (channel) => channel.close(),
        () => undefined,
      );
    try {
      await this.#node.unhandle(this.protocol);
    } catch (err) {
      this.#log('stop: %e', err);
    }
  }

  handle(handler: FrameHandler): void {
    this.#handler = handler;
  }

  /** Runs a request frame through this peer's own handler (as if it came from itself); for local slot copies. */
  async requestLocal(frame: Uint8Array): Promise<Uint8Array> {
    if (!this.#started) throw new PeerStoppedError();
    const handler = this.#handler;
    if (handler === undefined) throw new PeerStoppedError();
    return handler(frame, this.selfId);
  }

  /**
   * Sends `frame` to `peer` over this peer's stream to it (opened on first
   * use) and resolves with the reply. An `idempotent` request whose stream
   * closes under it (a connection that just died, such as one through a
   * relay that stopped) is sent once more, on a fresh stream and connection,
   * within the same timeout. So is one whose new stream stalls: no reply
   * ever read from it for half the timeout while another connection to the
   * peer is open (a WebRTC connection whose signalling died halfway looks
   * open but carries nothing).
   */
  async request(peer: string, frame: Uint8Array, options: RequestOptions): Promise<Uint8Array> {
    if (!this.#started) throw new PeerStoppedError();
    if (frame.byteLength > this.frameBytesMax) {
      throw new LimitExceededError('frameBytesMax', this.frameBytesMax, frame.byteLength);
    }
    const peerId = this.#peerId(peer);
    // Not AbortSignal.timeout: its timer cannot be cancelled, so every finished request
    // would still fire an abort (and its listeners) later; at thousands of requests a
    // second that showed up in CPU profiles.
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new DOMException('request timed out', 'TimeoutError')),
      options.timeoutMs,
    );
    const signal = controller.signal;
    // Half the timeout: a stream found stalled then still leaves time to send again elsewhere.
    const stallMs = options.timeoutMs / 2;
    let queued = true;
    try {
      await this.#acquire(peer, signal);
      queued = false;
      let reply: Uint8Array;
      try {
        reply = await this.#exchange(peer, peerId, frame, signal, stallMs);
      } catch (err) {
        // A stream that never opened carried nothing: any request may go again. One that closed may have.
        const again =
          err instanceof StreamNotOpenedError ||
          (err instanceof ChannelClosedError && options.idempotent === true);
        if (!again || signal.aborted || !this.#started) throw err;
        // The closed channel has left #channels: this opens a new stream, dialing when no live connection is left.
        this.stats.requestsResent++;
        this.#log('request to %s: stream closed or stalled, sending it again: %e', peer, err);
        reply = await this.#exchange(peer, peerId, frame, signal, stallMs);
      }
      this.stats.requestsSent++;
      return reply;
    } catch (err) {
      this.stats.requestsFailed++;
      if (err instanceof TesseraError) throw err;
      if (signal.aborted) throw new RequestTimeoutError(peer, options.timeoutMs, { cause: err });
      throw new PeerUnreachableError(peer, { cause: err });
    } finally {
      clearTimeout(timer);
      if (!queued) this.#release(peer);
    }
  }

  async #exchange(
    peer: string,
    peerId: ReturnType<typeof peerIdFromString>,
    frame: Uint8Array,
    signal: AbortSignal,
    stallMs: number,
  ): Promise<Uint8Array> {
    let opening = this.#channels.get(peer);
    if (opening === undefined) {
      opening = this.#openChannel(peerId, signal, stallMs);
      this.#channels.set(peer, opening);
      // A failed open is forgotten, so the next request dials again.
      opening.catch(() => {
        if (this.#channels.get(peer) === opening) this.#channels.delete(peer);
      });
    }
    const channel = await abortable(opening, signal);
    return channel.request(frame, signal, stallMs);
  }

  async #openChannel(
    peerId: ReturnType<typeof peerIdFromString>,
    signal: AbortSignal,
    stallMs: number,
  ): Promise<OutboundChannel> {
    let connection = this.#trustedConnection(peerId);
    if (connection === undefined) {
      const addresses =
        this.#addressesOf !== undefined && this.#node.getConnections(peerId).length === 0
          ? dialable(peerId.toString(), this.#addressesOf(peerId.toString()))
          : [];
      connection = await this.#node.dial(addresses.length > 0 ? addresses : peerId, { signal });
    }
    const stream = await this.#newStream(peerId, connection, signal, stallMs);
    const peer = peerId.toString();
    const channel = new OutboundChannel(stream, connection, {
      frameBytesMax: this.frameBytesMax,
      framesQueuedMax: this.requestsQueuedMax,
      onClosed: () => {
        if (this.#channels.get(peer) === opened) this.#channels.delete(peer);
      },
      onStalled: (stalled) => this.#giveUp(peerId, stalled.connection),
    });
    const opened = Promise.resolve(channel);
    this.#channels.set(peer, opened);
    return channel;
  }

  /**
   * Opens the replication stream on `connection`. A connection whose other
   * side gave up halfway (WebRTC signalling that timed out on one side only)
   * accepts the stream but never negotiates it. From `stallMs` (at most
   * OPEN_STALL_MS_MAX: negotiating is one round trip) on, as soon as another
   * connection to the peer is open, the attempt is abandoned; so is one
   * that failed while another is open. Both throw `StreamNotOpenedError`:
   * nothing was sent, so any request may try again on the other connection.
   */
  async #newStream(
    peerId: ReturnType<typeof peerIdFromString>,
    connection: Connection,
    signal: AbortSignal,
    stallMs: number,
  ): Promise<Stream> {
    const stall = new AbortController();
    const notOpened = (why: string) =>
      new StreamNotOpenedError(peerId.toString(), connection.remoteAddr.toString(), why);
    // Checked again every STALL_RECHECK_MS: another connection may come up later.
    const check = () => {
      if (this.#giveUp(peerId, connection)) stall.abort(notOpened('no answer'));
      else timer = setTimeout(check, STALL_RECHECK_MS);
    };
    let timer = setTimeout(check, Math.min(stallMs, OPEN_STALL_MS_MAX));
    try {
      return await connection.newStream(this.protocol, {
        signal: AbortSignal.any([signal, stall.signal]),
        runOnLimitedConnection: true,
      });
    } catch (err) {
      if (signal.aborted) throw err;
      if (stall.signal.aborted) throw stall.signal.reason;
      if (this.#giveUp(peerId, connection)) throw notOpened(err instanceof Error ? err.message : String(err));
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The connection a new stream goes on when some connection to the peer
   * was given up on: libp2p's own choice (open, direct first, unlimited)
   * among the others, or a limited one rather than the suspect. Without a
   * suspect, undefined: libp2p chooses (and dials when it has only limited
   * connections, to get a better one).
   */
  #trustedConnection(peerId: ReturnType<typeof peerIdFromString>): Connection | undefined {
    const open = this.#node.getConnections(peerId).filter((connection) => connection.status === 'open');
    const trusted = open.filter((connection) => !this.#suspects.has(connection));
    if (trusted.length === open.length) return undefined;
    const direct = trusted.filter((connection) => connection.direct);
    const indirect = trusted.filter((connection) => !connection.direct);
    return [...direct, ...indirect].find((connection) => connection.limits == null) ?? trusted[0];
  }

  /**
   * A stalled stream's connection is given up only when another open
   * connection to the peer exists: with one connection there is nowhere
   * else to send, and a slow peer must be waited for. The connection is then
   * suspect, and new streams go on the others.
   */
  #giveUp(peerId: ReturnType<typeof peerIdFromString>, connection: Connection): boolean {
    const others = this.#node
      .getConnections(peerId)
      .filter((other) => other !== connection && other.status === 'open' && !this.#suspects.has(other));
    if (others.length === 0) return false;
    this.#suspects.add(connection);
    this.stats.channelsStalled++;
    this.#log(
      'stream to %p on %a stalled; %d other connection(s) left',
      peerId,
      connection.remoteAddr,
      others.length,
    );
    return true;
  }

  /** Parses a peer id once; parsing (base58) on every request is measurable. */
  #peerId(peer: string): ReturnType<typeof peerIdFromString> {
    let peerId = this.#peerIds.get(peer);
    if (peerId !== undefined) return peerId;
    try {
      peerId = peerIdFromString(peer);
    } catch (err) {
      throw new InvalidArgumentError(`not a peer id: ${peer} (${String(err)})`);
    }
    if (this.#peerIds.size >= PEER_IDS_CACHED_MAX) this.#peerIds.clear();
    this.#peerIds.set(peer, peerId);
    return peerId;
  }

  /** Waits for one of the peer's in-flight slots, so a burst queues here instead of being refused by libp2p. */
  async #acquire(peer: string, signal: AbortSignal): Promise<void> {
    let queue = this.#queues.get(peer);
    if (queue === undefined) {
      queue = { inFlight: 0, waiting: [] };
      this.#queues.set(peer, queue);
    }
    if (queue.inFlight < this.requestsInFlightMax) {
      queue.inFlight++;
      return;
    }
    if (queue.waiting.length >= this.requestsQueuedMax) {
      throw new LimitExceededError('requestsQueuedMax', this.requestsQueuedMax, queue.waiting.length + 1);
    }
    const waiting = queue.waiting;
    await new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = waiting.indexOf(wake);
        if (at >= 0) waiting.splice(at, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      waiting.push(wake);
    });
    if (!this.#started) throw new PeerStoppedError();
    // The releasing request handed its slot over: inFlight stays as it was.
  }

  #release(peer: string): void {
    const queue = this.#queues.get(peer);
    if (queue === undefined) return;
    const next = queue.waiting.shift();
    if (next !== undefined) {
      next();
      return;
    }
    queue.inFlight--;
    if (queue.inFlight === 0) this.#queues.delete(peer);
  }

  #serve(stream: Stream, connection: Connection): void {
    const from = connection.remotePeer.toString();
    const handler = this.#handler;
    if (handler === undefined) {
      stream.abort(new Error('no replication handler registered'));
      return;
    }
    new InboundChannel(stream, from, handler, {
      frameBytesMax: this.frameBytesMax,
      requestsInFlightMax: this.requestsInFlightMax,
      framesQueuedMax: this.requestsQueuedMax,
      stats: this.stats,
      log: this.#log,
    }).run();
  }
}

/** Longest wait for a stream to open before trying another open connection to the peer. */
const OPEN_STALL_MS_MAX = 2000;

/** How often a stream still opening after its stall time looks again for another connection. */
const STALL_RECHECK_MS = 250;

/** Parsed peer ids kept; the cache is cleared when full. */
const PEER_IDS_CACHED_MAX = 4096;

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
