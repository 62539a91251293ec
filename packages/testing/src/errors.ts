/** Errors of `@tessera/testing`. */
import { LimitExceededError } from '@tessera/core';

/** Thrown when a `WriteQueue` already holds `QUEUED_WRITES_MAX` writes. */
export class WriteQueueFullError extends LimitExceededError {
  constructor(queuedWritesMax: number) {
    super('queuedWritesMax', queuedWritesMax, queuedWritesMax + 1);
  }
}
