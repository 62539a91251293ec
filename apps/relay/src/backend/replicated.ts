/**
 * The RESP server's data layer over the cluster: every key goes through the
 * peer's `put` / `get` / `delete` (quorum reads and writes across the slot's
 * owners, any peer accepting any key), so a SET through one peer's RESP port
 * is read through any other's. Values are stored exactly as the local
 * backend stores them, the CBOR map `{ v: bytes, exp?: unix ms }`, so an
 * expired key is invisible on every peer without a reaper (its record stays
 * until overwritten or deleted).
 *
 * Read-modify-writes (SET NX/XX/GET/KEEPTTL, INCR/DECR/INCRBY/DECRBY) run at
 * one peer per key, the key's primary (the first owner in placement order
 * that is up and has a published RESP endpoint): other peers forward them
 * there (`TESSERA.PRIMARY`), and the primary runs each key's ops one at a
 * time as a quorum read followed by a write carrying that read's context.
 * Two racing conditional writers are therefore serialized: the second sees
 * the first's result (SET NX: nil; INCR: the next number). What this does
 * not cover, said plainly: a plain SET racing a conditional op (it becomes a
 * sibling, the newest wins on read), and two peers that disagree about who
 * is primary (during a slot-map change, or when one has not yet heard the
 * other's endpoint). A primary that cannot be reached is `-TRYAGAIN`.
 *
 * KEYS/SCAN/DBSIZE walk the cluster with the Replicator's scan (each slot
 * read from one owner, ONE consistency per slot, pages merged in key order).
 * MSET writes each key with the backend's consistency: not all-or-none when
 * some writes fail (the reply is then the first failure). A missed quorum is
 * `-TRYAGAIN quorum not reached: a of r acknowledged`.
 */
import type { SlotMap } from '@tessera/coordinator';
import {
  decodeKey,
  decodeValue,
  InvalidArgumentError,
  keyRange,
  keySlot,
  SLOT_COUNT,
  TesseraError,
} from '@tessera/core';
import type { DataReadResult, Peer } from '@tessera/peer';
import type { ScanRequest, ScanResult } from '@tessera/replication';
import {
  CommandError,
  IncrementOverflowError,
  NotAnIntegerError,
  QuorumNotReachedReplyError,
  UnsupportedOnReplicatedError,
} from '../errors.ts';
import type { Reply } from '../resp/reply.ts';
import type {
  ClusterNode,
  ClusterTopology,
  ConditionalOp,
  ConditionalResult,
  Consistency,
  KeyspaceStats,
  KvBackend,
  ScanPage,
  ScanStepOptions,
  SetOptions,
  SetResult,
  SlotRange,
} from './backend.ts';
import { type ForwarderOptions, RespForwarder } from './forwarder.ts';
import { globMatch, matchesEverything } from './glob.ts';
import { KeyLocks } from './key-locks.ts';
import { INT64_MAX, INT64_MIN, parseInt64 } from './local-backend.ts';

/** Redis' default: SELECT 0 … 15. */
export const REPLICATED_DATABASES_DEFAULT = 16;

/** `peer.put/get/delete`'s consistency levels. */
export type RespConsistency = Consistency;

/** What the backend needs of a peer (a real `Peer`, or a part of one in tests). */
export type ReplicatedPeer = Pick<Peer, 'id' | 'put' | 'get' | 'delete'> & {
  /** The coordinator's slot map once the peer runs it (its epoch is CLUSTER INFO's current epoch). */
  readonly slotMap?: { readonly map: SlotMap };
  /** The owners replication writes to (the primary of a key is chosen among them), and liveness. */
  readonly placement?: {
    lookup(slot: number): { readonly owners: readonly string[] };
    isUp(peer: string): boolean;
  };
  /** The Replicator's cluster scan (KEYS, SCAN, DBSIZE); without it they are refused. */
  readonly replicator?: { scan(request: ScanRequest): Promise<ScanResult> };
};

/** Entries per Replicator scan page (its `scanEntriesPerPageMax`). */
const SCAN_PAGE_ENTRIES_MAX = 1024;

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
  /** How conditional writes reach a key's primary (timeout, AUTH password). */
  readonly forwarder?: ForwarderOptions;
}

/** What every consistency view of one backend shares: per-key locks and connections to primaries. */
interface Shared {
  readonly locks: KeyLocks;
  forwarder: RespForwarder | undefined;
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

const encoder = new TextEncoder();

/** `TESSERA.PRIMARY` arguments that run `op` at another peer. */
function forwardArgs(consistency: Consistency, db: number, op: ConditionalOp): (Uint8Array | string)[] {
  const head = ['TESSERA.PRIMARY', consistency, String(db)];
  if (op.kind === 'incr') return [...head, 'INCRBY', op.key, op.delta.toString()];
  const { condition, returnPrevious, keepTtl, expiresAtMs } = op.options;
  return [
    ...head,
    'SET',
    op.key,
    op.value,
    ...(condition === undefined ? [] : [condition]),
    ...(returnPrevious === true ? ['GET'] : []),
    ...(keepTtl === true ? ['KEEPTTL'] : []),
    // Absolute, so the primary's clock decides only whether it is already past.
    ...(expiresAtMs === undefined ? [] : ['PXAT', String(expiresAtMs)]),
  ];
}

/** The primary's reply to a forwarded op (see `primaryReply`). */
function resultOf(op: ConditionalOp, reply: Reply): ConditionalResult {
  if (op.kind === 'incr' && reply.type === 'integer') return BigInt(reply.value);
  if (op.kind === 'set' && reply.type === 'array') {
    const [written, previous] = reply.value;
    if (written?.type === 'integer' && (previous?.type === 'bulk' || previous?.type === 'null')) {
      return {
        written: Number(written.value) === 1,
        ...(previous.type === 'bulk' ? { previous: new Uint8Array(previous.value) } : {}),
      };
    }
  }
  throw new CommandError('TRYAGAIN the primary answered a forwarded write with an unexpected reply');
}

export class ReplicatedKvBackend implements KvBackend {
  readonly databases: number;
  readonly statsScansCluster = true;
  readonly nodeId: string;
  readonly #peer: ReplicatedPeer;
  readonly #consistency: RespConsistency;
  readonly #now: () => number;
  readonly #endpoints: ReplicatedBackendOptions['endpoints'];
  readonly #options: ReplicatedBackendOptions;
  readonly #views = new Map<Consistency, ReplicatedKvBackend>();
  readonly #shared: Shared;

  constructor(options: ReplicatedBackendOptions, shared?: Shared) {
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
    this.#shared = shared ?? { locks: new KeyLocks(), forwarder: undefined };
  }

  /** This backend at another consistency (one view per level, shared by every connection that asks). */
  withConsistency(consistency: Consistency): KvBackend {
    if (consistency === this.#consistency) return this;
    let view = this.#views.get(consistency);
    if (view === undefined) {
      view = new ReplicatedKvBackend({ ...this.#options, consistency }, this.#shared);
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
        // After a read, replace exactly what it saw: a concurrent plain write stays a sibling, never lost.
        ...(read === undefined ? {} : { context: read.context }),
      })
      .catch(translate);
  }

  async #remove(db: number, key: Uint8Array, read?: DataReadResult): Promise<void> {
    await this.#peer
      .delete(plainBytes(key), {
        database: db,
        consistency: this.#consistency,
        ...(read === undefined ? {} : { context: read.context }),
      })
      .catch(translate);
  }

  /**
   * Where `key`'s read-modify-writes run: undefined for here, else the RESP
   * endpoint of the first owner (placement order) that is up and published
   * one. Every peer with the same placement and endpoints picks the same.
   */
  #primaryOf(key: Uint8Array): { host: string; port: number } | undefined {
    const slot = keySlot(key);
    const placement = this.#peer.placement;
    const owners =
      placement?.lookup(slot).owners ??
      this.#peer.slotMap?.map.ranges.find((r) => r.start <= slot && slot <= r.end)?.owners ??
      [];
    for (const owner of owners) {
      if (owner === this.#peer.id) return undefined;
      if (placement !== undefined && !placement.isUp(owner)) continue;
      const endpoint = this.#endpoints?.get(owner);
      if (endpoint !== undefined) return endpoint;
    }
    return undefined;
  }

  /** Runs `op` at the key's primary: here under the key's lock, or forwarded. */
  async #conditional(db: number, op: ConditionalOp): Promise<ConditionalResult> {
    this.#checkDb(db);
    const primary = this.#primaryOf(op.key);
    if (primary === undefined) return this.conditionalHere(db, op);
    this.#shared.forwarder ??= new RespForwarder(this.#options.forwarder);
    const reply = await this.#shared.forwarder.call(primary, forwardArgs(this.#consistency, db, op));
    return resultOf(op, reply);
  }

  conditionalHere(db: number, op: ConditionalOp): Promise<ConditionalResult> {
    this.#checkDb(db);
    const lockKey = `${db}:${Buffer.from(op.key).toString('hex')}`;
    return this.#shared.locks.run(lockKey, async () => {
      const { record, read } = await this.#read(db, op.key);
      if (op.kind === 'incr') {
        const current = record === undefined ? 0n : parseInt64(record.v);
        if (current === undefined) throw new NotAnIntegerError();
        const next = current + op.delta;
        if (next < INT64_MIN || next > INT64_MAX) throw new IncrementOverflowError();
        const v = encoder.encode(next.toString());
        await this.#write(db, op.key, record?.exp === undefined ? { v } : { v, exp: record.exp }, read);
        return next;
      }
      const { options } = op;
      const previous = options.returnPrevious === true && record !== undefined ? { previous: record.v } : {};
      if ((options.condition === 'NX' && record) || (options.condition === 'XX' && !record)) {
        return { written: false, ...previous };
      }
      const v = plainBytes(op.value);
      const exp = options.keepTtl === true ? record?.exp : options.expiresAtMs;
      // Redis: an expiry not in the future deletes the key.
      if (exp !== undefined && exp <= this.#now()) await this.#remove(db, op.key, read);
      else await this.#write(db, op.key, exp === undefined ? { v } : { v, exp }, read);
      return { written: true, ...previous };
    });
  }

  async get(db: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    return (await this.#read(db, key)).record?.v;
  }

  getMany(db: number, keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return Promise.all(keys.map((key) => this.get(db, key)));
  }

  async set(db: number, key: Uint8Array, value: Uint8Array, options: SetOptions = {}): Promise<SetResult> {
    this.#checkDb(db);
    if (options.condition !== undefined || options.returnPrevious === true || options.keepTtl === true) {
      return (await this.#conditional(db, { kind: 'set', key, value, options })) as SetResult;
    }
    const v = plainBytes(value);
    if (options.expiresAtMs !== undefined) {
      // Redis: an expiry not in the future deletes the key.
      if (options.expiresAtMs <= this.#now()) await this.#remove(db, key);
      else await this.#write(db, key, { v, exp: options.expiresAtMs });
      return { written: true };
    }
    await this.#write(db, key, { v });
    return { written: true };
  }

  /**
   * Each key written with the backend's consistency, in parallel (later
   * pairs of a repeated key win). Not all-or-none: when some writes fail,
   * the others stay and the first failure is thrown.
   */
  async setMany(db: number, entries: readonly (readonly [Uint8Array, Uint8Array])[]): Promise<void> {
    this.#checkDb(db);
    const last = new Map(entries.map(([key, value]) => [Buffer.from(key).toString('hex'), [key, value]]));
    const results = await Promise.allSettled(
      [...last.values()].map(([key, value]) => this.#write(db, key!, { v: plainBytes(value!) })),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
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

  async incrementBy(db: number, key: Uint8Array, delta: bigint): Promise<bigint> {
    return (await this.#conditional(db, { kind: 'incr', key, delta })) as bigint;
  }

  async ttlMs(db: number, key: Uint8Array): Promise<number> {
    const { record } = await this.#read(db, key);
    if (record === undefined) return -2;
    if (record.exp === undefined) return -1;
    return Math.max(0, record.exp - this.#now());
  }

  /**
   * One page of the database's keys across the cluster, in key order: a
   * Replicator scan of `count` records (each slot from one owner), keeping
   * live RESP strings that match. The resume position is the last record
   * key examined, so a page may hold fewer keys than `count`, as in Redis.
   */
  async scan(db: number, options: ScanStepOptions): Promise<ScanPage> {
    this.#checkDb(db);
    const replicator = this.#peer.replicator;
    if (replicator === undefined) throw new UnsupportedOnReplicatedError('KEYS/SCAN', 'the peer has no scan');
    const { start, end } = keyRange('O', [db, 'kv']);
    const result = await replicator
      .scan({
        start,
        end,
        after: options.after ?? null,
        limit: Math.max(1, Math.min(options.count, SCAN_PAGE_ENTRIES_MAX)),
        mode: 'records',
      })
      .catch(translate);
    const match =
      options.match !== undefined && !matchesEverything(options.match) ? options.match : undefined;
    const now = this.#now();
    const keys: Uint8Array[] = [];
    for (const [recordKey, value] of result.entries) {
      const userKey = liveStringKey(recordKey, value, now);
      if (userKey !== undefined && (match === undefined || globMatch(match, userKey))) keys.push(userKey);
    }
    return result.cursor === null ? { keys } : { keys, next: result.cursor };
  }

  /** Walks the whole database (DBSIZE): live keys and how many have an expiry. */
  async stats(db: number): Promise<KeyspaceStats> {
    this.#checkDb(db);
    const replicator = this.#peer.replicator;
    if (replicator === undefined) throw new UnsupportedOnReplicatedError('DBSIZE', 'the peer has no scan');
    const { start, end } = keyRange('O', [db, 'kv']);
    const now = this.#now();
    let keys = 0;
    let expires = 0;
    let after: Uint8Array | null = null;
    do {
      const page: ScanResult = await replicator
        .scan({ start, end, after, limit: SCAN_PAGE_ENTRIES_MAX, mode: 'records' })
        .catch(translate);
      for (const [recordKey, value] of page.entries) {
        const record = liveRecord(value, now);
        if (record === undefined || liveStringKey(recordKey, value, now) === undefined) continue;
        keys++;
        if (record.exp !== undefined) expires++;
      }
      after = page.cursor;
    } while (after !== null);
    return { keys, expires };
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

  /** Closes connections to primaries; the peer is the caller's to stop. */
  async close(): Promise<void> {
    this.#shared.forwarder?.close();
    this.#shared.forwarder = undefined;
  }
}

/** The `{ v, exp? }` record in a scanned value, when it is one and not expired. */
function liveRecord(value: Uint8Array, now: number): KvRecordValue | undefined {
  let decoded: unknown;
  try {
    decoded = decodeValue(value);
  } catch {
    return undefined;
  }
  const record = decoded as Partial<KvRecordValue> | null;
  if (typeof record !== 'object' || record === null || !(record.v instanceof Uint8Array)) return undefined;
  if (record.exp !== undefined && (typeof record.exp !== 'number' || record.exp <= now)) return undefined;
  return record as KvRecordValue;
}

/** The user key of a scanned record holding a live RESP string (others' records are skipped). */
function liveStringKey(recordKey: Uint8Array, value: Uint8Array, now: number): Uint8Array | undefined {
  if (liveRecord(value, now) === undefined) return undefined;
  try {
    const userKey = decodeKey(recordKey).elements[2];
    return userKey instanceof Uint8Array ? userKey : undefined;
  } catch {
    return undefined;
  }
}

export function openReplicatedBackend(options: ReplicatedBackendOptions): ReplicatedKvBackend {
  return new ReplicatedKvBackend(options);
}
