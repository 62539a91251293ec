/**
 * What the HTTP API needs from the data plane: replication's record-level
 * API (`Replicator.put/get/delete`, also reachable as `peer.replicator`).
 * Declared structurally so the HTTP layer does not pin a package version.
 */

/** A version stamp: the minting owner's Lamport clock and its actor id. */
export interface RecordVersion {
  readonly clock: number;
  readonly node: string;
}

export interface RecordConsistencyOptions {
  readonly consistency?: 'one' | 'quorum' | 'all';
  readonly routingKey?: string | Uint8Array;
}

export interface RecordWriteOptions extends RecordConsistencyOptions {
  readonly idempotencyKey?: string;
}

export interface RecordWriteResult {
  readonly version: RecordVersion;
  readonly acknowledged: number;
  readonly required: number;
  readonly isDuplicate: boolean;
}

export interface RecordReadResult {
  readonly found: boolean;
  readonly value?: Uint8Array;
  readonly version?: RecordVersion;
  readonly siblings: readonly { readonly deleted: boolean; readonly version: RecordVersion }[];
  /** The causal context: (actor, counter) pairs, as pairs or as an object. */
  readonly context: ReadonlyArray<readonly [string, number]> | Readonly<Record<string, number>>;
  readonly answered: number;
  readonly required: number;
}

/** Quorum reads and writes of records (bytes keyed by bytes). */
export interface RecordApi {
  put(key: Uint8Array, value: Uint8Array, options?: RecordWriteOptions): Promise<RecordWriteResult>;
  get(key: Uint8Array, options?: RecordConsistencyOptions): Promise<RecordReadResult>;
  delete(key: Uint8Array, options?: RecordWriteOptions): Promise<RecordWriteResult>;
}
