/**
 * Typed errors of the RESP front end. Each carries the exact text a Redis
 * client sees after the leading `-`, so tests and clients match on the same
 * words Redis uses.
 */
import { TesseraError } from '@tessera/core';

/**
 * Thrown when a client sends bytes that are not valid RESP (or a request that
 * breaks a protocol limit). The connection is answered with
 * `-ERR Protocol error: <message>` and closed.
 */
export class ProtocolError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_RESP_PROTOCOL');
  }
  /** The reply line Redis sends for this error (without `-` and CRLF). */
  get replyText(): string {
    return `ERR Protocol error: ${this.message}`;
  }
}

/**
 * Thrown when a command is refused: wrong arity, syntax, type or value.
 * `message` is the full Redis error text, starting with its error code word
 * (`ERR`, `WRONGTYPE`, `NOAUTH`, …).
 */
export class CommandError extends TesseraError {
  constructor(message: string) {
    super(message, 'ERR_RESP_COMMAND');
  }
}

/** Thrown when a stored value is not a Redis integer (INCR family). */
export class NotAnIntegerError extends CommandError {
  constructor() {
    super('ERR value is not an integer or out of range');
  }
}

/** Thrown when INCR/DECR would leave the signed 64-bit range. */
export class IncrementOverflowError extends CommandError {
  constructor(message = 'ERR increment or decrement would overflow') {
    super(message);
  }
}

/**
 * Thrown when a command cannot be made correct on the replicated backend yet
 * (it needs a compare-and-set or a cluster-wide scan the replication layer
 * does not offer). The client sees `-ERR <what> is not supported on the
 * replicated backend yet (<why>)`; nothing was changed.
 */
export class UnsupportedOnReplicatedError extends CommandError {
  constructor(what: string, why: string) {
    super(`ERR ${what} is not supported on the replicated backend yet (${why})`);
  }
}

/**
 * Thrown when fewer owners than required acknowledged a write or answered a
 * read. The client sees `-TRYAGAIN quorum not reached: a of r acknowledged`;
 * a write may still have reached some owners (it is not reported as done).
 */
export class QuorumNotReachedReplyError extends CommandError {
  constructor(acknowledged: number, required: number) {
    super(`TRYAGAIN quorum not reached: ${acknowledged} of ${required} acknowledged`);
  }
}
