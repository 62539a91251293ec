/**
 * How one replica lays out replication data in its local `Store` (the byte
 * format is in docs/spec/replication.md):
 * - the record of a key lives under the caller's key itself (an O or I key);
 * - a slot index `S/'repl.slot'/slot/keyHash/key` lets anti-entropy scan one
 *   slot, or one bucket of its hash tree (buckets.ts), as a key range;
 * - hints live under `S/'repl.hint'/target/seq`;
 * - idempotency records under `S/'repl.idem'/key/idempotencyKey`.
 * Every write is durable (the Store's default).
 */

import {
  decodeCanonical,
  decodeValue,
  encodeKey,
  encodeValue,
  keyPrefix,
  LimitExceededError,
} from '@tessera/core';
import type { BatchOp, Store } from '@tessera/storage';
import { bucketFanout, bucketOf, bucketRange, keyHash } from './buckets.ts';
import { compareBytes, Hash64, toHex } from './bytes.ts';
import { replicationFactorMax } from './consistency.ts';
import { BadFrameError, CorruptRecordError } from './errors.ts';
import { checkKey, checkSlot } from './frame-checks.ts';
import { type IdempotentResult, idempotentFromWire, idempotentToWire } from './frames.ts';
import { nextTurn } from './next-turn.ts';
import { isTombstoneOnly, type ReplicaRecord, versionHash, winnerOf } from './record.ts';
import { isBytes, recordFromWire, recordToWire } from './record-codec.ts';

/**
 * Flushes of record writes in flight at once (a flush is one store batch, or
 * several when its writes pass `batchOpsMax`). Writes arriving while that
 * many commit wait and join the next flush (group commit): under load, fewer
 * and larger transactions (quorum puts: ~10% less CPU per put in three
 * interleaved runs against no bound).
 */
const flushesInFlightMax = 2;
/** Format version of every value this file writes (2: records are core dotted versions). */
export const REPLICA_FORMAT_VERSION = 2;

const SLOT_INDEX = 'repl.slot';
const HINT = 'repl.hint';
const IDEMPOTENCY = 'repl.idem';
/** Above this many uncached slots, one scan of the whole slot index beats one scan per slot. */
const slotScanOneByOneMax = 64;

/** One entry derived from a record (e.g. a secondary-index entry), stored beside it in the same batch. */
export interface DerivedEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

/**
 * The entries a record implies, as a pure function of the key and the record
 * (typically of its winning sibling). Called on every replica for every
 * record write, so it must be deterministic; a throw counts as no entries.
 */
export type Derive = (key: Uint8Array, record: ReplicaRecord) => readonly DerivedEntry[];

/**
 * A record write this replica made durable that changed the key's winning
 * version (a new key, a newer value, a tombstone): what change listeners get.
 */
export interface RecordChange {
  readonly key: Uint8Array;
  readonly slot: number;
  /** The record as stored now; its winner is `winnerOf(record)`. */
  readonly record: ReplicaRecord;
  /** The record it replaced, when the replica had one. */
  readonly before: ReplicaRecord | undefined;
}

/** CBOR framing of one `[key, record]` entry of a `records` reply beyond the key and record bytes. */
const recordsEntryOverheadBytes = 32;

/** What the `records` ops of one reply frame may still return. */
export interface RecordsBudget {
  bytesLeft: number;
  /** Records returned so far in the frame. */
  given: number;
}

/** A derived entry or a record value returned by a replica scan. */
export type ScanEntry = readonly [key: Uint8Array, value: Uint8Array];

/** One page of a replica-side scan (see `ReplicaStore.scanPage`). */
export interface ScanPageRequest {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
  /** Resume strictly after this key. */
  readonly after: Uint8Array | null;
  readonly limit: number;
  /** Bitmap of `SLOT_COUNT` bits: only entries of these slots are returned. */
  readonly slots: Uint8Array;
  /** `derived`: derived entries; `records`: the winning value of each live record. */
  readonly mode: 'derived' | 'records';
}

/** What `scanPage` returns: entries in key order, and where to resume (null: the range is exhausted). */
export interface ScanPageResult {
  readonly entries: ScanEntry[];
  readonly next: Uint8Array | null;
}

/** Whether `slot` is set in a slot bitmap. */
export function hasSlot(bitmap: Uint8Array, slot: number): boolean {
  return ((bitmap[slot >> 3] ?? 0) & (1 << (slot & 7))) !== 0;
}

interface PendingWrite {
  readonly slot: number;
  readonly ops: readonly BatchOp[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** One slot-index entry: a key of the slot and its record's version hash. */
export interface SlotEntry {
  readonly key: Uint8Array;
  readonly slot: number;
  readonly versionHash: Uint8Array;
  /** When the record is all tombstones: the winning tombstone's mint time. */
  readonly tombstoneMs: number | null;
}

/** A stored hint: a record to merge into `target` once it is back. */
export interface Hint {
  readonly storeKey: Uint8Array;
  readonly target: string;
  readonly key: Uint8Array;
  readonly slot: number;
  readonly record: ReplicaRecord;
  readonly createdMs: number;
}

/** Stored bytes of records, by record: records are immutable, and a mint checks then stores the same one. */
const recordBytes = new WeakMap<ReplicaRecord, Uint8Array>();

function storedBytes(record: ReplicaRecord): Uint8Array {
  let bytes = recordBytes.get(record);
  if (bytes === undefined) {
    bytes = encodeValue({ v: REPLICA_FORMAT_VERSION, s: recordToWire(record) });
    recordBytes.set(record, bytes);
  }
  return bytes;
}

/** Own enumerable fields of a decoded CBOR map (no array of keys built, unlike `Object.keys`). */
function fieldCount(map: unknown): number {
  let count = 0;
  for (const field in map as object) if (Object.hasOwn(map as object, field)) count += 1;
  return count;
}

/**
 * The record in a record's stored bytes (`{ v, s }`, see docs/spec/replication.md);
 * throws `CorruptRecordError` on anything else. Bytes in canonical form
 * (`decodeCanonical`) are remembered as the record's stored form, so
 * writing the record back (a slot copy merges a pulled record into a key it
 * does not hold) stores them as they are instead of encoding the record
 * again; other bytes that decode to a record are stored re-encoded.
 */
export function recordFromStored(bytes: Uint8Array): ReplicaRecord {
  // Only bytes in the one encoding this peer would write are kept as they are: a duplicate map key
  // or a padded length could otherwise carry data the record does not show to every replica.
  const canonical = decodeCanonical<{ v?: unknown; s?: unknown }>(bytes);
  const record = corrupt('record', () => {
    const raw = canonical ?? decodeValue<{ v?: unknown; s?: unknown }>(bytes);
    if (raw?.v !== REPLICA_FORMAT_VERSION) throw new Error(`unsupported record format ${String(raw?.v)}`);
    // Exactly the fields of the format, at every level: bytes a peer sent are stored verbatim, and
    // must carry nothing else.
    if (fieldCount(raw) !== 2) throw new Error('a stored record is { v, s } only');
    const record = recordFromWire(raw.s, 's');
    for (const sibling of raw.s as Record<string, Record<string, unknown>>[]) {
      if (
        fieldCount(sibling) !== 4 ||
        fieldCount(sibling.dot) !== 2 ||
        fieldCount(sibling.stamp) !== 2 ||
        fieldCount(sibling.value) !== 2
      )
        throw new Error('a sibling has fields beyond { dot, context, stamp, value }');
    }
    return record;
  });
  if (canonical !== undefined) recordBytes.set(record, bytes);
  return record;
}

/** The slot-index key of `key`: anti-entropy scans a slot's keys through it. */
export function slotIndexKey(slot: number, key: Uint8Array): Uint8Array {
  return encodeKey('S', [SLOT_INDEX, slot, keyHash(key), key]);
}

/**
 * Whether `keys` (a `records` page of `slot`, asked for after key `after`)
 * are in slot-index order, each past the one before and the first past
 * `after`: a page that does not move forward would be asked for again and
 * again.
 */
export function recordsPageAdvances(
  slot: number,
  after: Uint8Array | null,
  keys: readonly Uint8Array[],
): boolean {
  let previous = after === null ? null : slotIndexKey(slot, after);
  for (const key of keys) {
    const index = slotIndexKey(slot, key);
    if (previous !== null && compareBytes(index, previous) <= 0) return false;
    previous = index;
  }
  return true;
}

/** A tree node's digest (hash of its (key, version hash) entries in index order) and entry count. */
export interface NodeDigest {
  readonly digest: Uint8Array;
  readonly count: number;
}

/**
 * A slot's root digests, one per threshold: `byMinN[t - 1]` covers the keys
 * whose database has replication factor N ≥ t (t = 1..replicationFactorMax),
 * the keys two owners at positions < t of the slot's owner list share.
 */
export interface SlotDigest {
  readonly byMinN: readonly NodeDigest[];
}

class NodeHasher {
  readonly hash = new Hash64();
  count = 0;
  add(entry: SlotEntry): void {
    this.hash.update(entry.key).update(entry.versionHash);
    this.count += 1;
  }
  done(): NodeDigest {
    return { digest: this.hash.digest(), count: this.count };
  }
}

/** The root digest of a slot with no keys (every threshold): what a peer that holds nothing of a slot answers. */
export const emptyDigest: Uint8Array = new NodeHasher().done().digest;
const emptyNode: NodeDigest = Object.freeze({ digest: emptyDigest, count: 0 });
const emptySlotDigest: SlotDigest = Object.freeze({
  byMinN: Object.freeze(Array.from({ length: replicationFactorMax }, () => emptyNode)),
});

function corrupt<T>(what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof BadFrameError || error instanceof Error)
      throw new CorruptRecordError(`${what}: ${error.message}`);
    throw error;
  }
}

/** The store key of the idempotency record of (`key`, `idempotencyKey`). */
export function idempotencyStoreKey(key: Uint8Array, idempotencyKey: string): Uint8Array {
  return encodeKey('S', [IDEMPOTENCY, key, idempotencyKey]);
}

/** The stored bytes of one hint. */
export function hintValue(
  target: string,
  key: Uint8Array,
  slot: number,
  record: ReplicaRecord,
  seq: number,
  createdMs: number,
): Uint8Array {
  return encodeValue({
    v: REPLICA_FORMAT_VERSION,
    t: target,
    q: seq,
    k: key,
    s: slot,
    r: recordToWire(record),
    c: createdMs,
  });
}

/** A derived entry's value when `value` is one and its slot is in `slots`. */
function derivedEntry(key: Uint8Array, value: Uint8Array, slots: Uint8Array): ScanEntry | undefined {
  try {
    const raw = decodeValue<{ v?: unknown; s?: unknown; d?: unknown }>(value);
    if (raw?.v !== REPLICA_FORMAT_VERSION || typeof raw.s !== 'number' || !isBytes(raw.d)) return undefined;
    return hasSlot(slots, raw.s) ? [key, raw.d] : undefined;
  } catch {
    return undefined;
  }
}

/** The replication view of one local Store. */
export class ReplicaStore {
  readonly store: Store;
  #hintSeq = 0;
  #hintCount = 0;
  /** Slot digests computed since the slot last changed; writes through this class keep it exact. */
  readonly #digests = new Map<number, SlotDigest>();
  readonly #watchers = new Set<(slot: number) => void>();
  readonly #recordListeners = new Set<(change: RecordChange) => void>();
  readonly #replicationFactorOf: (key: Uint8Array) => number;
  /** Bumped by `forgetDigests`: digests computed across a bump are not cached. */
  #digestGeneration = 0;
  /** The wide digest scan running now, if any (see `slotDigests`). */
  #wideScan: Promise<void> | undefined;
  /** Record writes waiting for this turn's batch. */
  #pending: PendingWrite[] = [];
  readonly #derive: Derive | undefined;

  /**
   * @param replicationFactorOf N of a key's database (1..replicationFactorMax);
   * digests split keys by it. Default: every key counts for every N.
   * @param derive Entries stored beside each record in the same batch (see `Derive`).
   */
  constructor(
    store: Store,
    replicationFactorOf: (key: Uint8Array) => number = () => replicationFactorMax,
    derive?: Derive,
  ) {
    this.store = store;
    this.#replicationFactorOf = replicationFactorOf;
    this.#derive = derive;
  }

  /** The derived entries of `record` that fit the store; a throwing `derive` gives none. */
  #derived(key: Uint8Array, record: ReplicaRecord | undefined): readonly DerivedEntry[] {
    if (!this.#derive || !record) return [];
    try {
      const { keyBytesMax } = this.store.limits;
      return this.#derive(key, record).filter(
        (entry) => entry.key instanceof Uint8Array && entry.key.length > 0 && entry.key.length <= keyBytesMax,
      );
    } catch {
      return [];
    }
  }

  /** Store ops that replace the derived entries of `before` with those of `after`. */
  #derivedOps(
    key: Uint8Array,
    slot: number,
    before: ReplicaRecord | undefined,
    after: ReplicaRecord | undefined,
  ) {
    if (!this.#derive) return [];
    const next = this.#derived(key, after);
    const kept = new Set(next.map((entry) => toHex(entry.key)));
    const ops: BatchOp[] = [];
    for (const entry of this.#derived(key, before)) {
      if (!kept.has(toHex(entry.key))) ops.push({ type: 'delete', key: entry.key });
    }
    for (const entry of next) {
      const value = encodeValue({ v: REPLICA_FORMAT_VERSION, s: slot, d: entry.value });
      if (value.length <= this.store.limits.valueBytesMax) ops.push({ type: 'put', key: entry.key, value });
    }
    return ops;
  }

  #nOf(key: Uint8Array): number {
    const n = this.#replicationFactorOf(key);
    return Number.isInteger(n) ? Math.min(Math.max(n, 1), replicationFactorMax) : replicationFactorMax;
  }

  #changed(slot: number): void {
    this.#digests.delete(slot);
    for (const watcher of this.#watchers) watcher(slot);
  }

  /** Counts existing hints so `hintCount` and new sequence numbers are right after a restart. */
  async open(): Promise<void> {
    let count = 0;
    for await (const hint of this.hints()) {
      count += 1;
      this.#hintSeq = Math.max(this.#hintSeq, hint.seq);
    }
    this.#hintCount = count;
  }

  /** The key's record, checked; undefined when absent. Throws `CorruptRecordError` on bad stored bytes. */
  async getRecord(key: Uint8Array): Promise<ReplicaRecord | undefined> {
    const bytes = await this.store.get(key);
    if (!bytes) return undefined;
    return recordFromStored(bytes);
  }

  /**
   * Writes the record and its slot-index entry atomically and durably.
   * Throws `LimitExceededError` synchronously, queueing nothing, when the
   * record or the key's slot-index key exceed the store's limits (e.g. a
   * merge of concurrent siblings grew the record past the value limit).
   * @remarks Record writes issued in the same turn (a frame's ops, or many
   * callers') share one durable store batch: one commit and one digest
   * invalidation per slot instead of one per write. While
   * `flushesInFlightMax` batches commit, later writes gather for the next.
   */
  putRecord(key: Uint8Array, slot: number, record: ReplicaRecord, before?: ReplicaRecord): Promise<void> {
    this.#checkKeyLength(key);
    const indexKey = slotIndexKey(slot, key);
    const bytes = this.#checked(indexKey, record);
    const winner = winnerOf(record);
    const index = {
      k: key,
      s: slot,
      h: versionHash(record),
      t: isTombstoneOnly(record) ? winner.value.mintedMs : null,
    };
    const written = this.#write(slot, [
      { type: 'put', key, value: bytes },
      { type: 'put', key: indexKey, value: encodeValue(index) },
      // Derived entries replace those of the record this one supersedes, atomically with it.
      ...this.#derivedOps(key, slot, before, record),
    ]);
    if (this.#recordListeners.size === 0 || !winnerChanged(before, record)) return written;
    return written.then(() => this.#notify({ key, slot, record, before }));
  }

  /**
   * Calls `listener` after each durable record write that changes a key's
   * winning version, whatever made it (a local write, a replica's apply,
   * read repair, hints, anti-entropy, a slot copy). Listeners run in the
   * writing turn: keep them short. Returns the unsubscribe function.
   */
  watchRecords(listener: (change: RecordChange) => void): () => void {
    this.#recordListeners.add(listener);
    return () => this.#recordListeners.delete(listener);
  }

  #notify(change: RecordChange): void {
    for (const listener of this.#recordListeners) {
      try {
        listener(change);
      } catch {
        // A listener's bug must not fail a durable write that other owners count on.
      }
    }
  }

  /** Before the slot-index key is built, so an oversized key fails with the store's own bound. */
  #checkKeyLength(key: Uint8Array): void {
    const { keyBytesMax } = this.store.limits;
    if (key.length > keyBytesMax) throw new LimitExceededError('keyBytesMax', keyBytesMax, key.length);
  }

  /** The stored bytes of `record`, within the store's limits (else `LimitExceededError`). */
  #checked(indexKey: Uint8Array, record: ReplicaRecord): Uint8Array {
    const { keyBytesMax, valueBytesMax } = this.store.limits;
    if (indexKey.length > keyBytesMax)
      throw new LimitExceededError('keyBytesMax', keyBytesMax, indexKey.length);
    const bytes = storedBytes(record);
    if (bytes.length > valueBytesMax)
      throw new LimitExceededError('valueBytesMax', valueBytesMax, bytes.length);
    return bytes;
  }

  /** Removes the record, its index entry and the derived entries of `before` (tombstone reaping). */
  deleteRecord(key: Uint8Array, slot: number, before?: ReplicaRecord): Promise<void> {
    return this.#write(slot, [
      { type: 'delete', key },
      { type: 'delete', key: slotIndexKey(slot, key) },
      ...this.#derivedOps(key, slot, before, undefined),
    ]);
  }

  #write(slot: number, ops: readonly BatchOp[]): Promise<void> {
    // Before and after: a digest computed while the write is in flight is dropped either way.
    this.#changed(slot);
    return new Promise((resolve, reject) => {
      this.#pending.push({ slot, ops, resolve, reject });
      this.#schedule();
    });
  }

  #flushScheduled = false;
  /** Batches committing now (at most `flushesInFlightMax`). */
  #flushing = 0;

  #schedule(): void {
    if (this.#flushScheduled || this.#pending.length === 0 || this.#flushing >= flushesInFlightMax) return;
    this.#flushScheduled = true;
    nextTurn(() => void this.#flush());
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const writes = this.#pending;
    this.#pending = [];
    this.#flushing += 1;
    try {
      await this.#flushWrites(writes);
    } finally {
      this.#flushing -= 1;
      this.#schedule();
    }
  }

  async #flushWrites(writes: PendingWrite[]): Promise<void> {
    // Writes carry 2 ops plus their derived entries: pack whole writes up to the store's batch bound.
    const groups: PendingWrite[][] = [];
    let group: PendingWrite[] = [];
    let ops = 0;
    for (const write of writes) {
      if (group.length > 0 && ops + write.ops.length > this.store.limits.batchOpsMax) {
        groups.push(group);
        group = [];
        ops = 0;
      }
      group.push(write);
      ops += write.ops.length;
    }
    if (group.length > 0) groups.push(group);
    await Promise.all(groups.map((batch) => this.#commit(batch)));
  }

  /**
   * One page of a scan of [`start`, `end`) after `after`, keeping entries of
   * the bitmap's slots: derived entries (their slot is stored with them) or
   * the winning values of live records (slot from `slotOf`). Stops at `limit`
   * entries, `bytesMax` value bytes or `examinedMax` keys looked at; entries
   * that are not of the asked kind (other data in the range) are skipped.
   */
  async scanPage(
    request: ScanPageRequest,
    slotOf: (key: Uint8Array) => number,
    bytesMax: number,
    examinedMax: number,
  ): Promise<ScanPageResult> {
    const { start, end, after, limit, slots, mode } = request;
    const from = after && compareBytes(after, start) >= 0 ? after : start;
    const entries: ScanEntry[] = [];
    let bytes = 0;
    let examined = 0;
    let last: Uint8Array | null = null;
    for await (const { key, value } of this.store.scan({ start: from, end })) {
      if (after && compareBytes(key, after) <= 0) continue;
      // Stopped before `key`: the caller resumes after the last key looked at.
      if (last && (entries.length >= limit || bytes >= bytesMax || examined >= examinedMax))
        return { entries, next: last };
      examined += 1;
      last = key;
      const entry =
        mode === 'derived' ? derivedEntry(key, value, slots) : this.#liveValue(key, value, slots, slotOf);
      if (!entry) continue;
      entries.push(entry);
      bytes += entry[1].length + key.length;
    }
    return { entries, next: null };
  }

  #liveValue(
    key: Uint8Array,
    value: Uint8Array,
    slots: Uint8Array,
    slotOf: (key: Uint8Array) => number,
  ): ScanEntry | undefined {
    let record: ReplicaRecord;
    try {
      const raw = decodeValue<{ v?: unknown; s?: unknown }>(value);
      if (
        raw?.v !== REPLICA_FORMAT_VERSION ||
        raw.s === undefined ||
        (raw as { d?: unknown }).d !== undefined
      )
        return undefined;
      record = recordFromWire(raw.s, 's');
    } catch {
      return undefined;
    }
    if (!hasSlot(slots, slotOf(key))) return undefined;
    const bytes = winnerOf(record).value.bytes;
    return bytes === null ? undefined : [key, bytes];
  }

  async #commit(writes: readonly PendingWrite[]): Promise<void> {
    try {
      await this.store.batch(writes.flatMap((write) => write.ops));
    } catch (error) {
      if (writes.length > 1) {
        // One bad write must not fail the others: retry each alone.
        await Promise.all(writes.map((write) => this.#commit([write])));
        return;
      }
      this.#changed(writes[0]!.slot);
      writes[0]!.reject(error);
      return;
    }
    for (const slot of new Set(writes.map((write) => write.slot))) this.#changed(slot);
    for (const write of writes) write.resolve();
  }

  #entry(bytes: Uint8Array): SlotEntry {
    return corrupt('slot index', () => {
      const raw = decodeValue<{ k?: unknown; s?: unknown; h?: unknown; t?: unknown }>(bytes);
      const key = checkKey(raw.k, 'k');
      const slot = checkSlot(raw.s, 's');
      if (!isBytes(raw.h) || raw.h.length !== 8) throw new Error('h must be 8 bytes');
      if (raw.t !== null && typeof raw.t !== 'number') throw new Error('t must be a number or null');
      return { key, slot, versionHash: raw.h, tombstoneMs: raw.t };
    });
  }

  /** The index range of bucket (`level`, `bucket`) of `slot`. */
  #range(slot: number, level: number, bucket: number): { start: Uint8Array; end: Uint8Array } {
    const { low, high } = bucketRange(level, bucket);
    return { start: keyPrefix('S', [SLOT_INDEX, slot, low]), end: keyPrefix('S', [SLOT_INDEX, slot, high]) };
  }

  /**
   * Index entries of one bucket of `slot` whose key's N is at least `minN`,
   * in index order (key hash, key), after the entry of key `after`
   * (exclusive), up to `limit`.
   */
  async bucketEntries(
    slot: number,
    minN: number,
    level: number,
    bucket: number,
    after: Uint8Array | null,
    limit: number,
  ): Promise<SlotEntry[]> {
    const range = this.#range(slot, level, bucket);
    // A cursor from outside the bucket (a confused or hostile peer) must not widen the scan.
    const cursor = after ? slotIndexKey(slot, after) : null;
    const start = cursor && compareBytes(cursor, range.start) > 0 ? cursor : range.start;
    const out: SlotEntry[] = [];
    for await (const { key, value } of this.store.scan({ start, end: range.end })) {
      if (cursor && compareBytes(key, cursor) <= 0) continue;
      const entry = this.#entry(value);
      if (this.#nOf(entry.key) < minN) continue;
      out.push(entry);
      if (out.length >= limit) break;
    }
    return out;
  }

  /**
   * Up to `limit` whole records of `slot` (of keys whose N is at least
   * `minN`) after key `after` (exclusive), in
   * slot-index order, as their stored bytes (`recordFromStored` reads them),
   * while those fit `budget` (shared by the `records` ops of one reply
   * frame; its first record is always taken). The bytes go out as stored:
   * a page is neither decoded here nor encoded again for the wire.
   */
  async recordsPage(
    slot: number,
    minN: number,
    after: Uint8Array | null,
    limit: number,
    budget: RecordsBudget,
  ): Promise<{ records: [Uint8Array, Uint8Array][]; more: boolean }> {
    // One entry past the page tells whether more follow.
    const entries = await this.bucketEntries(slot, minN, 0, 0, after, limit + 1);
    const records: [Uint8Array, Uint8Array][] = [];
    for (const { key } of entries.slice(0, limit)) {
      const bytes = await this.store.get(key);
      if (bytes === undefined) continue; // reaped or dropped since the index entry was read
      // The key travels too, plus a few bytes of CBOR framing per entry.
      const cost = bytes.length + key.length + recordsEntryOverheadBytes;
      if (budget.given > 0 && cost > budget.bytesLeft) return { records, more: true };
      budget.given += 1;
      budget.bytesLeft -= cost;
      records.push([key, bytes]);
    }
    return { records, more: entries.length > limit };
  }

  /** Digests of the `bucketFanout` children of bucket (`level`, `parent`) of `slot`, over keys with N ≥ `minN`. */
  async childDigests(slot: number, minN: number, level: number, parent: number): Promise<NodeDigest[]> {
    const children = Array.from({ length: bucketFanout }, () => new NodeHasher());
    const first = parent * bucketFanout;
    for await (const { value } of this.store.scan(this.#range(slot, level, parent))) {
      const entry = this.#entry(value);
      if (this.#nOf(entry.key) < minN) continue;
      children[bucketOf(keyHash(entry.key), level + 1) - first]?.add(entry);
    }
    return children.map((child) => child.done());
  }

  /** The slot-index entries of one slot, in index order. */
  async *slotEntries(slot: number): AsyncIterable<SlotEntry> {
    for await (const { value } of this.store.scan({ prefix: keyPrefix('S', [SLOT_INDEX, slot]) })) {
      yield this.#entry(value);
    }
  }

  /** Every index entry, in slot then key order. */
  async *allEntries(): AsyncIterable<SlotEntry> {
    for await (const { value } of this.store.scan({ prefix: keyPrefix('S', [SLOT_INDEX]) })) {
      yield this.#entry(value);
    }
  }

  /**
   * Root digests of each slot in `slots` (see `SlotDigest`). Equal digests
   * mean the two replicas hold the same versions of those keys.
   * @remarks Cached per slot until a write through this class changes the
   * slot; call `forgetDigests` if the store, or a database's N, changed
   * behind its back. Many uncached slots are read in one scan of the index
   * from the lowest to the highest of them, and every slot in between is
   * cached too: callers that ask for interleaved sets of slots (a slot copy,
   * one set per source) then pay for one scan, not one each.
   */
  async slotDigests(slots: ReadonlySet<number>): Promise<Map<number, SlotDigest>> {
    // One wide scan at a time: callers asking at once (a copy's sources) mostly want slots the running
    // one is about to cache, and would otherwise each scan the same range of the index.
    while (this.#wideScan !== undefined && this.#uncached(slots) > slotScanOneByOneMax) {
      await this.#wideScan.catch(() => undefined);
    }
    // Taken before any await: a concurrent write may drop a cached digest meanwhile.
    const cached = new Map<number, SlotDigest>();
    const missing: number[] = [];
    for (const slot of slots) {
      const digest = this.#digests.get(slot);
      if (digest) cached.set(slot, digest);
      else missing.push(slot);
    }
    const out = new Map<number, SlotDigest>(cached);
    if (missing.length === 0) return out;
    // Per slot, hashers for thresholds 1..(highest N seen): the thresholds above hold no keys, and
    // share the empty node instead of hashing nothing once per slot each.
    const fresh = new Map<number, NodeHasher[]>();
    const hashersOf = (slot: number) => {
      let hashers = fresh.get(slot);
      if (!hashers) {
        hashers = [];
        fresh.set(slot, hashers);
      }
      return hashers;
    };
    const wide = missing.length > slotScanOneByOneMax;
    let low = missing[0]!;
    let high = low;
    for (const slot of missing) {
      low = Math.min(low, slot);
      high = Math.max(high, slot);
    }
    // A corrupt index value naming a slot outside what was scanned is not counted anywhere.
    const counted = (slot: number) => (wide ? slot >= low && slot <= high : fresh.has(slot));
    const add = (entry: SlotEntry) => {
      if (!counted(entry.slot)) return;
      const hashers = hashersOf(entry.slot);
      const n = this.#nOf(entry.key);
      while (hashers.length < n) hashers.push(new NodeHasher());
      for (let t = 1; t <= n; t++) hashers[t - 1]!.add(entry);
    };
    // A write landing during the scan keeps its slot out of the cache, so a cached digest never goes stale.
    const generation = this.#digestGeneration;
    const changed = new Set<number>();
    const watcher = (slot: number) => changed.add(slot);
    this.#watchers.add(watcher);
    const scan = (async () => {
      if (wide) {
        const range = {
          start: keyPrefix('S', [SLOT_INDEX, low]),
          end: keyPrefix('S', [SLOT_INDEX, high + 1]),
        };
        for await (const { value } of this.store.scan(range)) add(this.#entry(value));
      } else {
        for (const slot of missing) hashersOf(slot);
        for (const slot of missing) for await (const entry of this.slotEntries(slot)) add(entry);
      }
    })();
    if (wide) this.#wideScan = scan;
    try {
      await scan;
    } finally {
      this.#watchers.delete(watcher);
      if (this.#wideScan === scan) this.#wideScan = undefined;
    }
    const computed = wide ? Array.from({ length: high - low + 1 }, (_, i) => low + i) : missing;
    for (const slot of computed) {
      const hashers = fresh.get(slot);
      const digest =
        hashers && hashers.length > 0
          ? { byMinN: emptySlotDigest.byMinN.map((empty, t) => hashers[t]?.done() ?? empty) }
          : emptySlotDigest;
      if (!changed.has(slot) && generation === this.#digestGeneration) this.#digests.set(slot, digest);
      if (slots.has(slot) && !cached.has(slot)) out.set(slot, digest);
    }
    return out;
  }

  /** How many of `slots` have no cached digest. */
  #uncached(slots: ReadonlySet<number>): number {
    let count = 0;
    for (const slot of slots) if (!this.#digests.has(slot)) count += 1;
    return count;
  }

  /** Drops cached slot digests (after the store was changed other than through this class). */
  forgetDigests(): void {
    this.#digests.clear();
    // A scan running now may have read keys' N before the change: it must not cache what it computed.
    this.#digestGeneration += 1;
  }

  // Idempotency records.

  #idempotencyKey(key: Uint8Array, idempotencyKey: string): Uint8Array {
    return idempotencyStoreKey(key, idempotencyKey);
  }

  /** The remembered result, or undefined when absent or expired (an expired one is deleted). */
  async getIdempotent(
    key: Uint8Array,
    idempotencyKey: string,
    nowMs: number,
  ): Promise<IdempotentResult | undefined> {
    const storeKey = this.#idempotencyKey(key, idempotencyKey);
    const bytes = await this.store.get(storeKey);
    if (!bytes) return undefined;
    const { result, expiresMs } = corrupt('idempotency record', () => {
      const raw = decodeValue<{ v?: unknown; r?: unknown; e?: unknown }>(bytes);
      if (raw?.v !== REPLICA_FORMAT_VERSION) throw new Error(`unsupported format ${String(raw?.v)}`);
      if (typeof raw.e !== 'number') throw new Error('e must be a number');
      return { result: idempotentFromWire(raw.r, 'r'), expiresMs: raw.e };
    });
    if (expiresMs <= nowMs) {
      await this.store.delete(storeKey);
      return undefined;
    }
    return result;
  }

  async putIdempotent(key: Uint8Array, idempotencyKey: string, result: IdempotentResult, expiresMs: number) {
    const value = encodeValue({ v: REPLICA_FORMAT_VERSION, r: idempotentToWire(result), e: expiresMs });
    await this.store.put(this.#idempotencyKey(key, idempotencyKey), value);
  }

  // Hints.

  /** Hints stored now. */
  get hintCount(): number {
    return this.#hintCount;
  }

  /** Stores a hint durably; returns false (and stores nothing) when `hintsMax` hints are already stored. */
  async addHint(
    target: string,
    key: Uint8Array,
    slot: number,
    record: ReplicaRecord,
    createdMs: number,
    hintsMax: number,
  ) {
    if (this.#hintCount >= hintsMax) return false;
    this.#hintCount += 1;
    this.#hintSeq += 1;
    const seq = this.#hintSeq;
    const value = hintValue(target, key, slot, record, seq, createdMs);
    try {
      await this.store.put(encodeKey('S', [HINT, target, seq]), value);
    } catch (error) {
      this.#hintCount -= 1;
      throw error;
    }
    return true;
  }

  /** Stored hints in (target, sequence) order, or only `target`'s. */
  async *hints(target?: string): AsyncIterable<Hint & { seq: number }> {
    const prefix = keyPrefix('S', target === undefined ? [HINT] : [HINT, target]);
    for await (const { key: storeKey, value } of this.store.scan({ prefix })) {
      yield corrupt('hint', () => {
        const raw = decodeValue<{
          v?: unknown;
          t?: unknown;
          q?: unknown;
          k?: unknown;
          s?: unknown;
          r?: unknown;
          c?: unknown;
        }>(value);
        if (raw?.v !== REPLICA_FORMAT_VERSION) throw new Error(`unsupported hint format ${String(raw?.v)}`);
        if (typeof raw.c !== 'number') throw new Error('c must be a number');
        if (typeof raw.t !== 'string') throw new Error('t must be a string');
        if (typeof raw.q !== 'number' || !Number.isSafeInteger(raw.q))
          throw new Error('q must be an integer');
        return {
          storeKey,
          target: raw.t,
          seq: raw.q,
          key: checkKey(raw.k, 'k'),
          slot: checkSlot(raw.s, 's'),
          record: recordFromWire(raw.r, 'r'),
          createdMs: raw.c,
        };
      });
    }
  }

  /** Deletes delivered or expired hints. */
  async deleteHints(storeKeys: readonly Uint8Array[]): Promise<void> {
    if (storeKeys.length === 0) return;
    const ops: BatchOp[] = storeKeys.map((key) => ({ type: 'delete', key }));
    for (let i = 0; i < ops.length; i += this.store.limits.batchOpsMax) {
      await this.store.batch(ops.slice(i, i + this.store.limits.batchOpsMax));
    }
    this.#hintCount = Math.max(0, this.#hintCount - storeKeys.length);
  }
}

/** True when `after` has another winning version than `before` (or `before` is absent). */
function winnerChanged(before: ReplicaRecord | undefined, after: ReplicaRecord): boolean {
  if (!before || before.length === 0) return true;
  const was = winnerOf(before).dot;
  const now = winnerOf(after).dot;
  return was.replica !== now.replica || was.counter !== now.counter;
}
