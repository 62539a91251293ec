/**
 * Errors the peer and its libp2p network throw on purpose. Each extends a
 * class from `@tessera/core`, so callers can match on `name` or `code`.
 */
import { TesseraError } from '@tessera/core';

/** Base class of errors about talking to another peer over libp2p. */
export class PeerNetworkError extends TesseraError {}

/** Thrown when a request gets no response within `requestTimeoutMs`. */
export class RequestTimeoutError extends PeerNetworkError {
  readonly peer: string;
  readonly timeoutMs: number;
  constructor(peer: string, timeoutMs: number, options?: ErrorOptions) {
    super(`request to ${peer} timed out after ${timeoutMs} ms`, 'ERR_REQUEST_TIMEOUT', options);
    this.peer = peer;
    this.timeoutMs = timeoutMs;
  }
}

/** Thrown when a request cannot reach its peer: no route, refused dial, or the stream closed before a response. */
export class PeerUnreachableError extends PeerNetworkError {
  readonly peer: string;
  constructor(peer: string, options?: ErrorOptions) {
    super(`peer ${peer} is unreachable`, 'ERR_PEER_UNREACHABLE', options);
    this.peer = peer;
  }
}

/** Thrown when the remote request handler failed and answered with an error frame instead of a response. */
export class RemoteHandlerError extends PeerNetworkError {
  readonly peer: string;
  constructor(peer: string, remoteMessage: string) {
    super(`peer ${peer} failed to handle the request: ${remoteMessage}`, 'ERR_REMOTE_HANDLER');
    this.peer = peer;
  }
}

/** Thrown when a frame on a request stream is not a well-formed response (bad status byte, wrong length). */
export class MalformedFrameError extends PeerNetworkError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_MALFORMED_FRAME', options);
  }
}

/** Thrown when a peer is used after `stop()`. */
export class PeerStoppedError extends PeerNetworkError {
  constructor() {
    super('the peer is stopped', 'ERR_PEER_STOPPED');
  }
}

/** Thrown when the identity record in the store cannot be decoded as a libp2p private key. */
export class CorruptIdentityError extends TesseraError {
  constructor(options?: ErrorOptions) {
    super('the stored identity key is not a valid libp2p private key', 'ERR_CORRUPT_IDENTITY', options);
  }
}

/** Thrown when a slot-map change's gained slots cannot be copied from enough current owners (the change is refused). */
export class SlotCopyError extends TesseraError {
  constructor(message: string, options?: ErrorOptions) {
    super(`slot copy failed: ${message}`, 'ERR_SLOT_COPY', options);
  }
}
