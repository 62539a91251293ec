/**
 * The ordered byte-key store every peer keeps its records in. One contract,
 * several backends (memory, IndexedDB, filesystem); `runStoreTests` is the
 * conformance suite they all pass.
 */

/** Bounds every backend enforces; exceeding one throws `LimitExceededError` and writes nothing. */
export interface StoreLimits {
  readonly keyBytesMax: number;
  readonly valueBytesMax: number;
  readonly batchOpsMax: number;
}

/** Write options. */
export interface WriteOptions {
  /**
   * When true (the default) the returned promise settles only after the
   * write is on disk (fsync or the engine's equivalent). Pass false to trade
   * durability for speed; the write is still atomic.
   */
  readonly durable?: boolean;
}

/** One operation of an atomic batch. */
export type BatchOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'delete'; readonly key: Uint8Array };

/** A key-value pair returned by `scan`. */
export interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * A scan range. Either `prefix`, or `start` (inclusive) and/or `end`
 * (exclusive). Keys compare as unsigned bytes.
 */
export interface ScanOptions {
  readonly prefix?: Uint8Array;
  readonly start?: Uint8Array;
  readonly end?: Uint8Array;
  readonly reverse?: boolean;
  readonly limit?: number;
}

/** What `estimateSize` reports. `quotaBytes` is known only where the platform says (browsers). */
export interface SizeEstimate {
  readonly usedBytes: number;
  readonly quotaBytes?: number;
}

/**
 * An ordered byte-key store.
 * @remarks Methods report every failure, bad input included, as a rejected
 * promise, never a synchronous throw (`scan` may throw at the call or from
 * iteration). Writes from one handle apply in the order they were called.
 */
export interface Store {
  /** The limits this store enforces. */
  readonly limits: StoreLimits;
  /** The value under `key`, or undefined. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Sets `key` to `value`. */
  put(key: Uint8Array, value: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Removes `key`; removing a missing key is not an error. */
  delete(key: Uint8Array, options?: WriteOptions): Promise<void>;
  /** Applies every operation or none. Later operations on the same key win. */
  batch(ops: readonly BatchOp[], options?: WriteOptions): Promise<void>;
  /**
   * Entries in key order (or reverse), within the range, up to `limit`.
   * @remarks Safe while writes happen: backends read in pages, each page a
   * consistent snapshot; a write that lands between pages is seen if its key
   * is ahead of the scan position and not seen if it is behind.
   */
  scan(options?: ScanOptions): AsyncIterable<Entry>;
  /** Approximate bytes used by this store (and the quota where known). */
  estimateSize(): Promise<SizeEstimate>;
  /** Flushes and releases the store; every later call throws `StoreClosedError`. */
  close(): Promise<void>;
}
