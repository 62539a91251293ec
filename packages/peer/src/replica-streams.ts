/**
 * The two ends of a replication stream (framing in replica-channel.ts).
 * The outbound end matches replies to pending requests by id; the inbound
 * end serves up to `requestsInFlightMax` requests at once and stops reading
 * while it is full, so a fast sender is slowed by yamux's window instead of
 * growing memory here.
 */
import type { Connection, Logger, Stream } from '@libp2p/interface';
import { lpStream } from '@libp2p/utils';
import type { FrameHandler } from '@tessera/replication';
import { PeerUnreachableError } from './errors.ts';
import {
  FrameWriter,
  type LpStream,
  REQUEST_ID_BYTES,
  splitRequestId,
  withRequestId,
} from './replica-channel.ts';
import type { ReplicaTransportStats } from './replica-transport.ts';

/** Rejects with the signal's reason when it aborts first. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

interface Pending {
  resolve(reply: Uint8Array): void;
  reject(err: unknown): void;
  /** After this `performance.now()`, on a stream that never carried a reply, the channel counts as stalled. */
  readonly stallAt: number;
}

/** How often a channel with requests in flight checks whether it stalled. */
const STALL_CHECK_MS = 250;

const REQUEST_ID_MAX = 0xffff_ffff;

/**
 * A request's channel closed before its reply came (its connection died,
 * the stream was reset, or the channel was already closed): the request may
 * or may not have reached the peer.
 */
export class ChannelClosedError extends Error {
  constructor(cause: unknown) {
    super(`replication stream closed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ChannelClosedError';
  }
}

/** A stream that did not open on one connection (failed, or no answer) while another connection to the peer was open. */
export class StreamNotOpenedError extends Error {
  constructor(peer: string, address: string, why: string) {
    super(`replication stream to ${peer} not opened on ${address} (${why}); trying another connection`);
    this.name = 'StreamNotOpenedError';
  }
}

/**
 * Called when a channel stalled: a request has waited past its stall time
 * on a stream that never carried a reply. Returns whether to give the
 * channel up.
 */
export type OnStalled = (channel: OutboundChannel) => boolean;

/**
 * This peer's stream to one remote peer: many requests in flight, replies
 * matched by id.
 *
 * A stream can go silent without closing: a WebRTC connection whose
 * signalling died halfway stays listed as open, and a stream opened on it
 * never gets an answer. So while requests are in flight the channel checks
 * whether it stalled (see `OnStalled`); when the owner gives it up, every
 * pending request rejects with `ChannelClosedError`, which the transport
 * treats like a connection that died.
 */
export class OutboundChannel {
  /** The connection the stream runs on. */
  readonly connection: Connection;
  readonly #stream: Stream;
  readonly #lp: LpStream;
  readonly #writer: FrameWriter;
  readonly #pending = new Map<number, Pending>();
  readonly #onClosed: () => void;
  readonly #onStalled: OnStalled;
  #nextId = 1;
  #closed = false;
  /** The stream carried at least one reply. */
  #heard = false;
  #watchdog: ReturnType<typeof setTimeout> | undefined;

  constructor(
    stream: Stream,
    connection: Connection,
    options: {
      readonly frameBytesMax: number;
      readonly framesQueuedMax: number;
      readonly onClosed: () => void;
      readonly onStalled: OnStalled;
    },
  ) {
    this.#stream = stream;
    this.connection = connection;
    this.#onClosed = options.onClosed;
    this.#onStalled = options.onStalled;
    this.#lp = lpStream(stream, { maxDataLength: options.frameBytesMax + REQUEST_ID_BYTES });
    this.#writer = new FrameWriter(this.#lp, options.framesQueuedMax, (err) => this.#fail(err));
    void this.#readReplies();
  }

  /** Sends `frame`; a channel never heard from counts as stalled when no reply came within `stallMs`. */
  request(frame: Uint8Array, signal: AbortSignal, stallMs: number): Promise<Uint8Array> {
    if (this.#closed)
      return Promise.reject(new ChannelClosedError(new PeerUnreachableError(this.#stream.id)));
    const id = this.#nextId;
    this.#nextId = id === REQUEST_ID_MAX ? 1 : id + 1;
    return new Promise<Uint8Array>((resolve, reject) => {
      const onAbort = () => {
        this.#pending.delete(id);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (reply) => {
          signal.removeEventListener('abort', onAbort);
          resolve(reply);
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
        stallAt: performance.now() + stallMs,
      });
      this.#writer.push(withRequestId(id, frame));
      this.#watch();
    });
  }

  /** Closes the stream; pending requests reject. */
  close(): void {
    this.#fail(new Error('replication transport stopped'));
  }

  /** One timer per channel (not per request) while requests are in flight. */
  #watch(): void {
    if (this.#watchdog !== undefined || this.#closed) return;
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      if (this.#closed || this.#pending.size === 0) return;
      if (this.#stalled(performance.now()) && this.#onStalled(this)) {
        this.#fail(new Error('no frame read from the replication stream while requests waited'));
        return;
      }
      this.#watch();
    }, STALL_CHECK_MS);
    // A watchdog alone must not keep a process alive.
    (this.#watchdog as { unref?: () => void }).unref?.();
  }

  /**
   * Whether some request waited past its stall time and the stream has
   * never carried a reply. A stream that answered before is on a working
   * connection: its peer is slow, and giving it up would fail requests the
   * peer did apply (a mint reported as not acknowledged).
   */
  #stalled(now: number): boolean {
    if (this.#heard) return false;
    for (const pending of this.#pending.values()) {
      if (pending.stallAt <= now) return true;
    }
    return false;
  }

  async #readReplies(): Promise<void> {
    try {
      for (;;) {
        const { id, payload } = splitRequestId((await this.#lp.read()).subarray());
        this.#heard = true;
        const pending = this.#pending.get(id);
        // A reply to a request that timed out is dropped.
        if (pending === undefined) continue;
        this.#pending.delete(id);
        pending.resolve(payload);
      }
    } catch (err) {
      this.#fail(err);
    }
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
    this.#onClosed();
    const closed = new ChannelClosedError(err);
    for (const pending of this.#pending.values()) pending.reject(closed);
    this.#pending.clear();
    this.#stream.abort(err instanceof Error ? err : new Error(String(err)));
  }
}

export interface InboundChannelOptions {
  readonly frameBytesMax: number;
  readonly requestsInFlightMax: number;
  readonly framesQueuedMax: number;
  readonly stats: ReplicaTransportStats;
  readonly log: Logger;
}

/** A remote peer's stream to this one: reads requests, serves them through the handler, writes replies. */
export class InboundChannel {
  readonly #stream: Stream;
  readonly #from: string;
  readonly #handler: FrameHandler;
  readonly #options: InboundChannelOptions;
  readonly #lp: LpStream;
  readonly #writer: FrameWriter;
  #inFlight = 0;
  #slotFreed: (() => void) | undefined;
  #failed = false;

  constructor(stream: Stream, from: string, handler: FrameHandler, options: InboundChannelOptions) {
    this.#stream = stream;
    this.#from = from;
    this.#handler = handler;
    this.#options = options;
    this.#lp = lpStream(stream, { maxDataLength: options.frameBytesMax + REQUEST_ID_BYTES });
    this.#writer = new FrameWriter(this.#lp, options.framesQueuedMax, (err) => this.#reject(err));
  }

  async run(): Promise<void> {
    try {
      for (;;) {
        if (this.#inFlight >= this.#options.requestsInFlightMax) {
          await new Promise<void>((resolve) => {
            this.#slotFreed = resolve;
          });
        }
        const { id, payload } = splitRequestId((await this.#lp.read()).subarray());
        this.#inFlight++;
        void this.#serve(id, payload);
      }
    } catch (err) {
      // The remote closing its side between frames is the normal end of a stream.
      if ((err as { name?: string }).name === 'UnexpectedEOFError') {
        void this.#stream.close().catch(() => undefined);
        return;
      }
      this.#reject(err);
    }
  }

  async #serve(id: number, payload: Uint8Array): Promise<void> {
    try {
      const reply = await this.#handler(payload, this.#from);
      if (reply.byteLength > this.#options.frameBytesMax) {
        // No reply: the requester times out and counts it as not acknowledged.
        throw new Error(`reply of ${reply.byteLength} bytes exceeds frameBytesMax`);
      }
      this.#writer.push(withRequestId(id, reply));
      this.#options.stats.requestsServed++;
    } catch (err) {
      this.#options.stats.requestsRejected++;
      this.#options.log('dropped a replication request from %s: %e', this.#from, err);
    } finally {
      this.#inFlight--;
      const wake = this.#slotFreed;
      this.#slotFreed = undefined;
      wake?.();
    }
  }

  #reject(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#options.stats.requestsRejected++;
    this.#options.log('rejected a replication stream from %s: %e', this.#from, err);
    this.#stream.abort(err instanceof Error ? err : new Error(String(err)));
  }
}
