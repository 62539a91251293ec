/** Errors only the filesystem backend throws; the rest come from `@tessera/storage`. */
import { TesseraError } from '@tessera/core';

/** Thrown when `openFsStore` finds the directory held by another open store (this process or another). Nothing is opened. */
export class StoreLockedError extends TesseraError {
  /** The directory that is locked. */
  readonly dir: string;
  constructor(dir: string, options?: ErrorOptions) {
    super(`store directory is locked by another open store: ${dir}`, 'ERR_STORE_LOCKED', options);
    this.dir = dir;
  }
}
