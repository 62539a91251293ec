/**
 * Storage errors. Limits and wrong argument types reuse core's
 * `LimitExceededError` and `InvalidArgumentError` (re-exported here) so a
 * caller matches one class whichever layer threw.
 */
import { TesseraError } from '@tessera/core';

export { InvalidArgumentError, LimitExceededError } from '@tessera/core';

/** Thrown when a store is used after `close()` (or after the engine closed it under us). */
export class StoreClosedError extends TesseraError {
  constructor(message = 'store is closed') {
    super(message, 'ERR_STORE_CLOSED');
  }
}

/** Thrown when the platform refuses a write for lack of space (IndexedDB quota, full disk). Nothing of the write is kept. */
export class QuotaExceededError extends TesseraError {
  constructor(message = 'storage quota exceeded', options?: ErrorOptions) {
    super(message, 'ERR_QUOTA_EXCEEDED', options);
  }
}

/** Thrown when the storage engine fails for any reason no narrower error names; `cause` holds the engine's error. */
export class StorageIoError extends TesseraError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, 'ERR_STORAGE_IO', options);
  }
}
