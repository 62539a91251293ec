/**
 * The RESP server's data layer over the cluster: every key goes through the
 * peer's `put` / `get` / `delete` (quorum reads and writes across the slot's
 * owners, any peer accepting any key), so a SET through one peer's RESP port
 * is read through any other's. Values are stored exactly as the local
 * backend stores them, the CBOR map `{ v: bytes, exp?: unix ms }`, so an
 * expired key is invisible on every peer without a reaper (its record stays
 * until overwritten or deleted).
 *
 * What it refuses, with `UnsupportedOnReplicatedError` and no change made,
 * because replication has no compare-and-set and no cluster-wide scan yet:
 * SET NX/XX and SET … GET (atomic read-then-write), INCR/DECR/INCRBY/DECRBY,
 * MSET of more than one key (all-or-none across slots), KEYS/SCAN and
 * DBSIZE. A missed quorum is `-TRYAGAIN quorum not reached: a of r acknowledged`.
 */
import type { SlotMap } from '@tessera/coordinator';
import { InvalidArgumentError, SLOT_COUNT, TesseraError } from '@tessera/core';
import type { DataReadResult, Peer } from '@tessera/peer';
import { QuorumNotReachedReplyError, UnsupportedOnReplicatedError } from '../errors.ts';
import type {
  ClusterNode,
  ClusterTopology,
  Consistency,
  KeyspaceStats,
  KvBackend,
  ScanPage,
  SetOptions,
  SetResult,
  SlotRange,
} from './backend.ts';

/** Redis' default: SELECT 0 … 15. */
export const REPLICATED_DATABASES_DEFAULT = 16;

/** `peer.put/get/delete`'s consistency levels. */
export type RespConsistency = Consistency;

/** What the backend needs of a peer (a real `Peer`, or a part of one in tests). */
export type ReplicatedPeer = Pick<Peer, 'id' | 'put' | 'get' | 'delete'> & {
  /** The coordinator's slot map once the peer runs it (its epoch is CLUSTER INFO's current epoch). */
  readonly slotMap?: { readonly map: SlotMap };
};

export interface ReplicatedBackendOptions {
  readonly peer: ReplicatedPeer;
  /** Consistency of every read and write. Default `quorum`. */
  readonly consistency?: RespConsistency;
  /** How many databases SELECT accepts. Default 16. */
  readonly databases?: number;
  /** Clock for expiry, Unix ms (tests inject one). */
  readonly now?: () => number;
  /**
   * Other peers' RESP endpoints (`RespEndpoints`). With them and a committed
   * slot map, CLUSTER SLOTS names each slot's owners; without, this node
   * answers for every slot.
   */
  readonly endpoints?: { get(peerId: string): { host: string; port: number } | undefined };
}

const QUORUM_CODE = 'ERR_QUORUM_NOT_REACHED';

/** The stored record: the local backend's layout (`kv-value.ts`). */
interface KvRecordValue {
  v: Uint8Array;
  exp?: number;
}

function plainBytes(bytes: Uint8Array): Uint8Array {
  // Buffers from the RESP parser: the codec must see plain bytes, not a Buffer subclass.
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * A quorum miss becomes the client's TRYAGAIN; everything else goes up
 * unchanged: a key or value over the replicated bound is a
 * `LimitExceededError`, which the dispatcher answers `-ERR <limit> exceeded: …`,
 * so clients do not retry a write that can never succeed.
 */
function translate(error: unknown): never {
  if (error instanceof TesseraError && error.code === QUORUM_CODE) {
    const { acknowledged, required } = error as TesseraError & { acknowledged?: number; required?: number };
    throw new QuorumNotReachedReplyError(acknowledged ?? 0, required ?? 0);
  }
  throw error;
}

/** A peer id (any string) as the 40-hex node id Redis Cluster clients expect. */
function nodeIdOf(peerId: string): string {
  const bytes = new TextEncoder().encode(peerId);
  // The id's tail is its most random part (a base58 multihash): take up to 20 bytes of it as hex.
  const tail = bytes.subarray(Math.max(0, bytes.length - 20));
  return Buffer.from(tail).toString('hex').padStart(40, '0');
}

export class ReplicatedKvBackend implements KvBackend {
  readonly databases: number;
  readonly nodeId: string;
  readonly #peer: ReplicatedPeer;
  readonly #consistency: RespConsistency;
  readonly #now: () => number;
  readonly #endpoints: ReplicatedBackendOptions['endpoints'];
  readonly #options: ReplicatedBackendOptions;
  readonly #views = new Map<Consistency, ReplicatedKvBackend>();

  constructor(options: ReplicatedBackendOptions) {
    const databases = options.databases ?? REPLICATED_DATABASES_DEFAULT;
    if (!Number.isSafeInteger(databases) || databases < 1 || databases > 1_000_000) {
      throw new InvalidArgumentError(`databases must be 1..1000000, got ${databases}`);
    }
    this.databases = databases;
    this.#peer = options.peer;
    this.#consistency = options.consistency ?? 'quorum';
    this.#now = options.now ?? Date.now;
    this.nodeId = nodeIdOf(options.peer.id);
    this.#endpoints = options.endpoints;
    this.#options = options;
  }

  /** This backend at another consistency (one view per level, shared by every connection that asks). */
  withConsistency(consistency: Consistency): KvBackend {
    if (consistency === this.#consistency) return this;
    let view = this.#views.get(consistency);
    if (view === undefined) {
      view = new ReplicatedKvBackend({ ...this.#options, consistency });
      this.#views.set(consistency, view);
    }
    return view;
  }

  #checkDb(db: number): void {
    if (!Number.isSafeInteger(db) || db < 0 || db >= this.databases) {
      throw new InvalidArgumentError(`database ${db} out of range`);
    }
  }

  /** The live record of `key` (undefined when absent, deleted or expired) and the read's context. */
  async #read(db: number, key: Uint8Array): Promise<{ record?: KvRecordValue; read: DataReadResult }> {
    this.#checkDb(db);
    const read = await this.#peer
      .get(plainBytes(key), { database: db, consistency: this.#consistency })
      .catch(translate);
    if (!read.found) return { read };
    const value = read.value as Partial<KvRecordValue> | undefined;
    if (typeof value !== 'object' || value === null || !(value.v instanceof Uint8Array)) {
      // Written through another front end (the HTTP API stores JSON values): not a Redis string.
      throw new UnsupportedOnReplicatedError(
        'reading a key written by another front end',
        'its value is not a RESP string record',
      );
    }
    if (value.exp !== undefined && value.exp <= this.#now()) return { read };
    return { record: value as KvRecordValue, read };
  }

  async #write(db: number, key: Uint8Array, record: KvRecordValue, read?: DataReadResult): Promise<void> {
    await this.#peer
      .put(plainBytes(key), record, {
        database: db,
        consistency: this.#consistency,
        // After a read (KEEPTTL), replace exactly what it saw: a concurrent write stays a sibling, never lost.
        ...(read === undefined ? {} : { context: read.context }),
      })
      .catch(translate);
  }

  async #remove(db: number, key: Uint8Array): Promise<void> {
    await this.#peer
      .delete(plainBytes(key), { database: db, consistency: this.#consistency })
      .catch(translate);
  }

  async get(db: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.#read(db, key)).record?.v;
  }

  getMany(db: number, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(db, key)));
  }

  async set(db: number, key: Uint8Array, value: Uint8Array, options: SetOptions = {}): Promise<SetResult> {
    this.#checkDb(db);
    if (options.condition !== undefined) {
      throw new UnsupportedOnReplicatedError(`SET ${options.condition}`, 'needs a compare-and-set');
    }
    if (options.returnPrevious === true) {
      throw new UnsupportedOnReplicatedError('SET … GET', 'needs an atomic read-and-write');
    }
    const v = plainBytes(value);
    if (options.keepTtl === true) {
      const { record, read } = await this.#read(db, key);
      await this.#write(db, key, record?.exp === undefined ? { v } : { v, exp: record.exp }, read);
      return { written: true };
    }
    if (options.expiresAtMs !== undefined) {
      // Redis: an expiry not in the future deletes the key.
      if (options.expiresAtMs <= this.#now()) await this.#remove(db, key);
      else await this.#write(db, key, { v, exp: options.expiresAtMs });
      return { written: true };
    }
    await this.#write(db, key, { v });
    return { written: true };
  }

  async setMany(db: number, entries: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
    this.#checkDb(db);
    const keys = new Set(entries.map(([key]) => Buffer.from(key).toString('hex')));
    if (keys.size > 1) {
      throw new UnsupportedOnReplicatedError('MSET of several keys', 'needs all-or-none writes across slots');
    }
    const last = entries[entries.length - 1];
    if (last !== undefined) await this.#write(db, last[0], { v: plainBytes(last[1]) });
  }

  async delete(db: number, keys: readonly Uint8Array[]): Promise<number> {
    this.#checkDb(db);
    let existed = 0;
    // Distinct keys only: DEL k k counts k once, as in Redis.
    const distinct = new Map(keys.map((key) => [Buffer.from(key).toString('hex'), key]));
    await Promise.all(
      [...distinct.values()].map(async (key) => {
        // The count comes from a read just before the delete (a concurrent SET may slip between them).
        if ((await this.#read(db, key)).record !== undefined) existed++;
        await this.#remove(db, key);
      }),
    );
    return existed;
  }

  async exists(db: number, keys: readonly Uint8Array[]): Promise<number> {
    const found = await this.getMany(db, keys);
    return found.filter((v) => v !== undefined).length;
  }

  async incrementBy(): Promise<bigint> {
    throw new UnsupportedOnReplicatedError('INCR/DECR/INCRBY/DECRBY', 'needs an atomic read-modify-write');
  }

  async ttlMs(db: number, key: Uint8Array): Promise<number> {
    const { record } = await this.#read(db, key);
    if (record === undefined) return -2;
    if (record.exp === undefined) return -1;
    return Math.max(0, record.exp - this.#now());
  }

  async scan(): Promise<ScanPage> {
    throw new UnsupportedOnReplicatedError('KEYS/SCAN', 'needs a scan across every owner');
  }

  async stats(): Promise<KeyspaceStats> {
    throw new UnsupportedOnReplicatedError('DBSIZE', 'needs a count across every owner');
  }

  /**
   * The committed slot map with each owner's published RESP endpoint
   * (primary first; owners that published none are left out). Any peer
   * routes any key, so a client following this map, or sending everything
   * here, is correct either way. Without a map, or when a range has no owner
   * with a known endpoint, this node stands for those slots.
   */
  async topology(self: { host: string; port: number }): Promise<ClusterTopology> {
    const me: ClusterNode = { id: this.nodeId, host: self.host, port: self.port };
    const map = this.#peer.slotMap?.map;
    const fallback: ClusterTopology = {
      self: me,
      nodes: [me],
      ranges: [{ start: 0, end: SLOT_COUNT - 1, owners: [me] }],
      epoch: map?.epoch ?? 0,
    };
    if (map === undefined || map.ranges.length === 0 || this.#endpoints === undefined) return fallback;
    const nodes = new Map<string, ClusterNode>([[this.#peer.id, me]]);
    const nodeOf = (peerId: string): ClusterNode | undefined => {
      let node = nodes.get(peerId);
      if (node === undefined) {
        const endpoint = this.#endpoints!.get(peerId);
        if (endpoint === undefined) return undefined;
        node = { id: nodeIdOf(peerId), host: endpoint.host, port: endpoint.port };
        nodes.set(peerId, node);
      }
      return node;
    };
    const ranges: SlotRange[] = map.ranges.map((range) => {
      const owners = range.owners.map(nodeOf).filter((n): n is ClusterNode => n !== undefined);
      return { start: range.start, end: range.end, owners: owners.length > 0 ? owners : [me] };
    });
    return { self: me, nodes: [...nodes.values()], ranges, epoch: map.epoch };
  }

  /** Nothing runs in the background; the peer is the caller's to stop. */
  async close(): Promise<void> {}
}

export function openReplicatedBackend(options: ReplicatedBackendOptions): ReplicatedKvBackend {
  return new ReplicatedKvBackend(options);
}
