/**
 * Errors the replication layer throws on purpose. Each extends a class from
 * `@tessera/core`, so callers can match on `name` or `code`.
 */
import { TesseraError } from '@tessera/core';

/**
 * Thrown when fewer owners than required acknowledged a write or answered a
 * read. The write may still have reached some owners (and hints); it is not
 * reported as a success.
 */
export class QuorumNotReachedError extends TesseraError {
  readonly required: number;
  readonly acknowledged: number;
  constructor(required: number, acknowledged: number, detail = '') {
    super(
      `quorum not reached: ${acknowledged} of ${required} required owners acknowledged${detail ? ` (${detail})` : ''}`,
      'ERR_QUORUM_NOT_REACHED',
    );
    this.required = required;
    this.acknowledged = acknowledged;
  }
}

/** Thrown when a frame from a peer is not a valid replication frame; nothing in it is applied. */
export class BadFrameError extends TesseraError {
  constructor(message: string) {
    super(`bad replication frame: ${message}`, 'ERR_BAD_FRAME');
  }
}

/** Thrown when a stored replica record, hint or idempotency record fails its check after reading. */
export class CorruptRecordError extends TesseraError {
  constructor(message: string) {
    super(`corrupt replication record: ${message}`, 'ERR_CORRUPT_RECORD');
  }
}

/** Thrown when an idempotency key is reused for the same key with a different operation or value. */
export class IdempotencyKeyConflictError extends TesseraError {
  constructor(idempotencyKey: string) {
    super(
      `idempotency key ${JSON.stringify(idempotencyKey)} was used with a different value`,
      'ERR_IDEMPOTENCY_KEY_CONFLICT',
    );
  }
}

/** Thrown when a peer answers a request with an error reply (the remote code is kept). */
export class RemoteReplicaError extends TesseraError {
  readonly peer: string;
  readonly remoteCode: string;
  constructor(peer: string, remoteCode: string, message: string) {
    super(`replica ${peer} refused: ${remoteCode}: ${message}`, 'ERR_REMOTE_REPLICA');
    this.peer = peer;
    this.remoteCode = remoteCode;
  }
}

/** Thrown when an operation is called after `close()`. */
export class ReplicatorClosedError extends TesseraError {
  constructor() {
    super('the replicator is closed', 'ERR_REPLICATOR_CLOSED');
  }
}
