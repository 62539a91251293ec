/**
 * The coordinator's `Network` over libp2p: broadcast on the cluster's
 * gossipsub topic, request/response over one protocol with length-prefixed
 * frames. Every input from the wire is bounded and checked; bad input is
 * dropped, counted and logged, and never throws out of a handler.
 */

import { type Message, TopicValidatorResult } from '@libp2p/gossipsub';
import type { Connection, Logger, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { NotAMemberError } from '@tessera/auth';
import type { Network, PeerIdString } from '@tessera/coordinator';
import { InvalidArgumentError, LimitExceededError, TesseraError } from '@tessera/core';
import {
  MalformedFrameError,
  PeerStoppedError,
  PeerUnreachableError,
  RemoteHandlerError,
  RequestTimeoutError,
} from './errors.ts';
import type { TesseraLibp2p } from './libp2p-services.ts';
import {
  ERROR_MESSAGE_BYTES_MAX,
  FRAME_BYTES_MAX_DEFAULT,
  GOSSIP_BYTES_MAX_DEFAULT,
  INBOUND_STREAMS_MAX_DEFAULT,
  OUTBOUND_STREAMS_MAX_DEFAULT,
  REQUEST_TIMEOUT_MS_DEFAULT,
} from './network-limits.ts';

/** The request protocol the coordinator speaks. */
export const COORDINATOR_PROTOCOL = '/tessera/coordinator/1.0.0';

/** The gossipsub topic of a cluster. */
export function clusterTopic(cluster: string): string {
  return `/tessera/cluster/${cluster}/coordinator/1`;
}

const STATUS_OK = 0;
const STATUS_ERROR = 1;

/** Options of `Libp2pNetwork`. */
export interface Libp2pNetworkOptions {
  /** Cluster name; selects the gossip topic. */
  readonly cluster: string;
  /** Request protocol id; `COORDINATOR_PROTOCOL` by default. */
  readonly protocol?: string;
  /** End-to-end request timeout; also bounds how long an inbound request may take. */
  readonly requestTimeoutMs?: number;
  /** Largest request or response frame in bytes. */
  readonly frameBytesMax?: number;
  /** Largest gossip message in bytes; must match the node's gossipsub `maxInboundDataLength`. */
  readonly gossipBytesMax?: number;
  /** Inbound request streams allowed at once per connection. */
  readonly inboundStreamsMax?: number;
  /**
   * Cluster auth (see peer-auth.ts): `validate` becomes the gossipsub topic
   * validator, and only peers `isMember` accepts are listed by
   * `connectedPeers` and asked for catch-up. Off when omitted.
   */
  readonly auth?: {
    readonly validate: (data: Uint8Array, from: PeerIdString) => Promise<'accept' | 'reject' | 'ignore'>;
    readonly isMember: (peer: PeerIdString) => boolean;
  };
}

/** Counters of what the network dropped or refused, for tests and metrics. */
export interface NetworkStats {
  /** Gossip messages delivered to handlers. */
  broadcastsReceived: number;
  /** Payload bytes of those messages (gossipsub framing and signatures not included). */
  broadcastBytesReceived: number;
  /** Gossip messages published by this peer. */
  broadcastsSent: number;
  /** Payload bytes of those messages. */
  broadcastBytesSent: number;
  /** Gossip messages dropped because they were unsigned. */
  broadcastsDroppedUnsigned: number;
  /** Gossip publishes that failed (logged, best effort). */
  broadcastsFailed: number;
  /** Inbound requests answered. */
  requestsServed: number;
  /** Inbound request streams aborted: oversized or malformed frame, timeout, reset. */
  requestsRejected: number;
  /** Handler exceptions (gossip or request), logged and swallowed. */
  handlerErrors: number;
}

type BroadcastHandler = (data: Uint8Array, from: PeerIdString) => void;
type RequestHandler = (data: Uint8Array, from: PeerIdString) => Promise<Uint8Array>;

/** `Network` over a started libp2p node. Call `start()` before use and `stop()` before stopping the node. */
export class Libp2pNetwork implements Network {
  readonly selfId: PeerIdString;
  readonly topic: string;
  readonly protocol: string;
  readonly requestTimeoutMs: number;
  readonly frameBytesMax: number;
  readonly gossipBytesMax: number;
  readonly inboundStreamsMax: number;
  readonly stats: NetworkStats = {
    broadcastsReceived: 0,
    broadcastBytesReceived: 0,
    broadcastsSent: 0,
    broadcastBytesSent: 0,
    broadcastsDroppedUnsigned: 0,
    broadcastsFailed: 0,
    requestsServed: 0,
    requestsRejected: 0,
    handlerErrors: 0,
  };

  readonly #node: TesseraLibp2p;
  readonly #log: Logger;
  readonly #broadcastHandlers = new Set<BroadcastHandler>();
  readonly #auth: Libp2pNetworkOptions['auth'];
  #requestHandler: RequestHandler | undefined;
  #started = false;
  readonly #onMessage = (event: CustomEvent<Message>): void => this.#receiveGossip(event.detail);

  constructor(node: TesseraLibp2p, options: Libp2pNetworkOptions) {
    if (options.cluster.length === 0) throw new InvalidArgumentError('cluster must be a non-empty string');
    this.#node = node;
    this.#log = node.logger.forComponent('tessera:network');
    this.selfId = node.peerId.toString();
    this.topic = clusterTopic(options.cluster);
    this.protocol = options.protocol ?? COORDINATOR_PROTOCOL;
    this.requestTimeoutMs = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT;
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    this.gossipBytesMax = options.gossipBytesMax ?? GOSSIP_BYTES_MAX_DEFAULT;
    this.inboundStreamsMax = options.inboundStreamsMax ?? INBOUND_STREAMS_MAX_DEFAULT;
    this.#auth = options.auth;
  }

  /** Subscribes to the cluster topic and registers the request protocol. */
  async start(): Promise<void> {
    if (this.#started) return;
    this.#started = true;
    const pubsub = this.#node.services.pubsub;
    const auth = this.#auth;
    if (auth !== undefined) {
      pubsub.topicValidators.set(this.topic, async (_propagationSource, message) => {
        if (message.type !== 'signed') return TopicValidatorResult.Reject;
        const verdict = await auth.validate(message.data, message.from.toString());
        return verdict === 'accept'
          ? TopicValidatorResult.Accept
          : verdict === 'ignore'
            ? TopicValidatorResult.Ignore
            : TopicValidatorResult.Reject;
      });
    }
    pubsub.addEventListener('message', this.#onMessage);
    pubsub.subscribe(this.topic);
    await this.#node.handle(this.protocol, (stream, connection) => this.#serve(stream, connection), {
      maxInboundStreams: this.inboundStreamsMax,
      maxOutboundStreams: OUTBOUND_STREAMS_MAX_DEFAULT,
      // Catch-up must work between two browsers before their WebRTC
      // connection is up, when all they share is a relayed connection.
      runOnLimitedConnection: true,
    });
  }

  /** Unsubscribes and unregisters; later calls to `request` reject with `PeerStoppedError`. */
  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#started = false;
    const pubsub = this.#node.services.pubsub;
    pubsub.removeEventListener('message', this.#onMessage);
    if (this.#auth !== undefined) pubsub.topicValidators.delete(this.topic);
    try {
      pubsub.unsubscribe(this.topic);
      await this.#node.unhandle(this.protocol);
    } catch (err) {
      this.#log('stop: %e', err);
    }
  }

  broadcast(data: Uint8Array): void {
    if (!this.#started) throw new PeerStoppedError();
    if (data.byteLength > this.gossipBytesMax) {
      throw new LimitExceededError('gossipBytesMax', this.gossipBytesMax, data.byteLength);
    }
    this.stats.broadcastsSent++;
    this.stats.broadcastBytesSent += data.byteLength;
    this.#node.services.pubsub.publish(this.topic, data).catch((err: unknown) => {
      this.stats.broadcastsFailed++;
      this.#log('publish failed: %e', err);
    });
  }

  /** Adds a gossip handler; returns a function that removes it. */
  onBroadcast(handler: BroadcastHandler): () => void {
    this.#broadcastHandlers.add(handler);
    return () => this.#broadcastHandlers.delete(handler);
  }

  onRequest(handler: RequestHandler): void {
    this.#requestHandler = handler;
  }

  /** Connected peers; with auth, members only (the coordinator's catch-up partners). */
  connectedPeers(): PeerIdString[] {
    const peers = this.#node.getPeers().map((peer) => peer.toString());
    const auth = this.#auth;
    return auth === undefined ? peers : peers.filter((peer) => auth.isMember(peer));
  }

  /** Peers in this peer's gossipsub mesh for the cluster topic. */
  meshPeers(): PeerIdString[] {
    // The GossipSub interface omits getMeshPeers; the implementation has it.
    const pubsub = this.#node.services.pubsub as unknown as { getMeshPeers(topic: string): string[] };
    return pubsub.getMeshPeers(this.topic);
  }

  async request(peer: PeerIdString, data: Uint8Array, options?: { timeoutMs?: number }): Promise<Uint8Array> {
    if (!this.#started) throw new PeerStoppedError();
    if (data.byteLength > this.frameBytesMax) {
      throw new LimitExceededError('frameBytesMax', this.frameBytesMax, data.byteLength);
    }
    // A non-member could answer catch-up with messages it made up in a member's name.
    if (this.#auth !== undefined && !this.#auth.isMember(peer)) {
      throw new NotAMemberError(peer, 'catch-up is pulled from members only');
    }
    let peerId: ReturnType<typeof peerIdFromString>;
    try {
      peerId = peerIdFromString(peer);
    } catch (err) {
      throw new InvalidArgumentError(`not a peer id: ${peer} (${String(err)})`);
    }
    const timeoutMs = options?.timeoutMs ?? this.requestTimeoutMs;
    const signal = AbortSignal.timeout(timeoutMs);
    let stream: Stream | undefined;
    try {
      stream = await this.#node.dialProtocol(peerId, this.protocol, { signal, runOnLimitedConnection: true });
      // One byte more than a payload for the status byte of the response.
      const lp = lpStream(stream, { maxDataLength: this.frameBytesMax + 1 });
      await lp.write(data, { signal });
      const frame = (await lp.read({ signal })).subarray();
      await stream.close({ signal }).catch(() => undefined);
      return decodeResponse(peer, frame);
    } catch (err) {
      stream?.abort(err instanceof Error ? err : new Error(String(err)));
      if (err instanceof TesseraError) throw err;
      if (signal.aborted) throw new RequestTimeoutError(peer, timeoutMs, { cause: err });
      throw new PeerUnreachableError(peer, { cause: err });
    }
  }

  #receiveGossip(message: Message): void {
    if (message.topic !== this.topic) return;
    if (message.type !== 'signed') {
      // StrictSign already refuses these; this guards a misconfigured node.
      this.stats.broadcastsDroppedUnsigned++;
      this.#log('dropped unsigned gossip message');
      return;
    }
    this.stats.broadcastsReceived++;
    this.stats.broadcastBytesReceived += message.data.byteLength;
    const from = message.from.toString();
    for (const handler of this.#broadcastHandlers) {
      try {
        handler(message.data, from);
      } catch (err) {
        this.stats.handlerErrors++;
        this.#log.error('broadcast handler failed on a message from %s: %e', from, err);
      }
    }
  }

  async #serve(stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer.toString();
    const signal = AbortSignal.timeout(this.requestTimeoutMs);
    try {
      const lp = lpStream(stream, { maxDataLength: this.frameBytesMax });
      const request = (await lp.read({ signal })).subarray();
      const response = await this.#answer(request, from);
      await lp.write(response, { signal });
      await stream.close({ signal });
      this.stats.requestsServed++;
    } catch (err) {
      this.stats.requestsRejected++;
      this.#log('rejected a request stream from %s: %e', from, err);
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  }

  async #answer(request: Uint8Array, from: PeerIdString): Promise<Uint8Array> {
    const handler = this.#requestHandler;
    if (handler === undefined) return errorFrame('no request handler registered');
    try {
      const response = await handler(request, from);
      if (response.byteLength > this.frameBytesMax) {
        return errorFrame(
          `response of ${response.byteLength} bytes exceeds frameBytesMax ${this.frameBytesMax}`,
        );
      }
      const frame = new Uint8Array(response.byteLength + 1);
      frame[0] = STATUS_OK;
      frame.set(response, 1);
      return frame;
    } catch (err) {
      this.stats.handlerErrors++;
      this.#log.error('request handler failed on a request from %s: %e', from, err);
      return errorFrame(err instanceof Error ? err.message : String(err));
    }
  }
}

function errorFrame(message: string): Uint8Array {
  const text = new TextEncoder().encode(message).subarray(0, ERROR_MESSAGE_BYTES_MAX);
  const frame = new Uint8Array(text.byteLength + 1);
  frame[0] = STATUS_ERROR;
  frame.set(text, 1);
  return frame;
}

function decodeResponse(peer: PeerIdString, frame: Uint8Array): Uint8Array {
  const status = frame[0];
  if (status === STATUS_OK) return frame.subarray(1);
  if (status === STATUS_ERROR) {
    const text = new TextDecoder('utf-8', { fatal: false }).decode(
      frame.subarray(1, 1 + ERROR_MESSAGE_BYTES_MAX),
    );
    throw new RemoteHandlerError(peer, text);
  }
  throw new MalformedFrameError(`response from ${peer} has unknown status byte ${String(status)}`);
}
