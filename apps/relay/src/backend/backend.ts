/**
 * What the RESP server needs from the data layer, and nothing more. The
 * local backend (one node, one store) implements it now; the replicated
 * backend (quorum reads and writes across the cluster) replaces it without
 * the RESP layer changing. Keys and values are raw bytes; `db` is the
 * SELECTed database number.
 */

/** Conditions and expiry of a SET. */
export interface SetOptions {
  /** `NX`: write only when the key is absent; `XX`: only when it exists. */
  readonly condition?: 'NX' | 'XX';
  /**
   * Absolute expiry in Unix milliseconds. Undefined clears any TTL unless
   * `keepTtl` is set. A time not in the future deletes the key (Redis does
   * the same for EXAT/PXAT in the past).
   */
  readonly expiresAtMs?: number;
  /** `KEEPTTL`: keep the key's current expiry. */
  readonly keepTtl?: boolean;
  /** `GET`: return the previous value. */
  readonly returnPrevious?: boolean;
}

/** What a SET did. */
export interface SetResult {
  /** False when the NX/XX condition stopped the write. */
  readonly written: boolean;
  /** The value before the SET (only when `returnPrevious` was asked). */
  readonly previous?: Uint8Array;
}

/** One page of a SCAN. */
export interface ScanPage {
  readonly keys: Uint8Array[];
  /** Where the next page starts (opaque to callers), or undefined when the scan is complete. */
  readonly next?: Uint8Array;
}

/** Options of one SCAN step. */
export interface ScanStepOptions {
  /** Resume position from the previous page; undefined starts at the beginning. */
  readonly after?: Uint8Array;
  /** How many keys to examine (a hint, like Redis' COUNT). */
  readonly count: number;
  /** Redis glob; only matching keys are returned (keys examined still count). */
  readonly match?: Uint8Array;
}

/** Key and expiry counts of one database (INFO keyspace). */
export interface KeyspaceStats {
  readonly keys: number;
  readonly expires: number;
}

/** A RESP endpoint of a cluster node. */
export interface ClusterNode {
  /**
   * 40 lowercase hex characters, like a Redis Cluster node id (clients such
   * as redis-benchmark --cluster parse CLUSTER NODES and expect that shape).
   */
  readonly id: string;
  readonly host: string;
  readonly port: number;
}

/** An inclusive slot range and its owners, primary first. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
  readonly owners: readonly ClusterNode[];
}

/** The cluster as RESP clients see it. */
export interface ClusterTopology {
  /** The node answering. */
  readonly self: ClusterNode;
  /** Every known node, self included. */
  readonly nodes: readonly ClusterNode[];
  /** Disjoint ranges in slot order; slots in no range are unassigned. */
  readonly ranges: readonly SlotRange[];
  /** The slot map's epoch (CLUSTER INFO current epoch). */
  readonly epoch: number;
}

/**
 * A read-modify-write (SET with NX/XX/GET/KEEPTTL, the INCR family). The
 * replicated backend runs every one of a key at one peer, the key's primary,
 * so two of them racing are serialized instead of both succeeding.
 */
export type ConditionalOp =
  | {
      readonly kind: 'set';
      readonly key: Uint8Array;
      readonly value: Uint8Array;
      readonly options: SetOptions;
    }
  | { readonly kind: 'incr'; readonly key: Uint8Array; readonly delta: bigint };

/** A `set` op's `SetResult`, or an `incr` op's new value. */
export type ConditionalResult = SetResult | bigint;

/** The data layer behind the RESP server. */
export interface KvBackend {
  /** How many databases SELECT accepts (0 … databases-1). */
  readonly databases: number;
  /**
   * True when `stats` walks the whole cluster (the replicated backend): INFO
   * keyspace then stays empty, since clients send INFO on every connect;
   * DBSIZE still counts.
   */
  readonly statsScansCluster?: boolean;
  /** The value of `key`, or undefined when absent or expired. */
  get(db: number, key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Values of `keys` in order (MGET). */
  getMany(db: number, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /** Writes `value` under `key`, subject to `options`. */
  set(db: number, key: Uint8Array, value: Uint8Array, options?: SetOptions): Promise<SetResult>;
  /** Writes every pair, clearing their TTLs, all or none (MSET). Later pairs win. */
  setMany(db: number, entries: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void>;
  /** Removes the keys; resolves with how many existed. */
  delete(db: number, keys: readonly Uint8Array[]): Promise<number>;
  /** How many of `keys` exist, a key named twice counting twice (EXISTS). */
  exists(db: number, keys: readonly Uint8Array[]): Promise<number>;
  /**
   * Adds `delta` to the signed 64-bit integer stored under `key` (absent
   * counts as 0), keeping its TTL; resolves with the new value.
   * @throws NotAnIntegerError, IncrementOverflowError
   */
  incrementBy(db: number, key: Uint8Array, delta: bigint): Promise<bigint>;
  /** Milliseconds until `key` expires; -1 when it has no TTL, -2 when absent (PTTL). */
  ttlMs(db: number, key: Uint8Array): Promise<number>;
  /** One page of keys in the database. */
  scan(db: number, options: ScanStepOptions): Promise<ScanPage>;
  /** Key and expiry counts (DBSIZE, INFO keyspace). Keys expired but not yet reaped may still count, as in Redis. */
  stats(db: number): Promise<KeyspaceStats>;
  /** The cluster map; `self` is how clients reach this server. */
  topology(self: { host: string; port: number }): Promise<ClusterTopology>;
  /** Stops background work (expiry reaping). Does not close the store it was given. */
  close(): Promise<void>;
  /**
   * The same data with reads and writes at `consistency` (TESSERA.CONSISTENCY
   * on a connection). Absent on backends where it means nothing (local).
   */
  withConsistency?(consistency: Consistency): KvBackend;
  /**
   * Runs `op` on this node, without forwarding it to the key's primary
   * (TESSERA.PRIMARY: another peer chose this one as the primary). Absent on
   * backends that never forward.
   */
  conditionalHere?(db: number, op: ConditionalOp): Promise<ConditionalResult>;
}

/** Read and write consistency of a replicated backend. */
export type Consistency = 'one' | 'quorum' | 'all';
