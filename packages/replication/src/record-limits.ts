/**
 * User-visible key and value bounds derived from the local store's limits
 * minus the exact bytes the replication layer wraps around them.
 */
import { encodeValue, LimitExceededError, REPLICA_ID_LENGTH_MAX, type VersionVector } from '@tessera/core';
import { versionVectorEntriesMax } from './limits.ts';
import type { ReplicaRecord } from './record.ts';
import { recordToWire } from './record-codec.ts';
import { hintValue, idempotencyStoreKey, REPLICA_FORMAT_VERSION, slotIndexKey } from './replica-store.ts';

/** Bounds a caller's key and value must respect so every owner's store accepts the record. */
export interface RecordLimits {
  /** Largest key, in escaped tuple bytes (a 0x00 byte counts twice), so its slot-index key fits the store. */
  readonly keyBytesMax: number;
  /** Largest value, so one sibling with a full version context fits the store, also as a hint. */
  readonly valueBytesMax: number;
}

const slotMax = 16383;
const longId = 'x'.repeat(REPLICA_ID_LENGTH_MAX);
// CBOR's widest unsigned integer head (9 bytes) for every counter, clock and timestamp.
const bigCounter = 2 ** 53 - 1;

/**
 * Escaped length of `key` inside a tuple-encoded store key (what it adds to
 * its slot-index key): a byte string element escapes each 0x00 as 0x00 0xFF.
 * Counted, not encoded: it runs on every write.
 */
export function escapedKeyBytes(key: Uint8Array): number {
  let bytes = key.length;
  for (let i = 0; i < key.length; i++) if (key[i] === 0) bytes += 1;
  return bytes;
}

/**
 * A worst-case one-sibling record around an empty value: the longest actor
 * ids, the widest counters and a context of `versionVectorEntriesMax`
 * entries (the margin for whatever context the version carries).
 */
function widestEmptyRecord(): ReplicaRecord {
  const context: VersionVector = {};
  for (let i = 0; i < versionVectorEntriesMax; i++) {
    context[`${i.toString().padStart(4, '0')}${longId}`.slice(0, REPLICA_ID_LENGTH_MAX)] = bigCounter;
  }
  return [
    {
      dot: { replica: longId, counter: bigCounter },
      context,
      stamp: { clock: bigCounter, node: longId },
      value: { bytes: new Uint8Array(0), mintedMs: bigCounter },
    },
  ];
}

/** The bounds for a store enforcing `store`'s key and value limits. */
export function recordLimitsOf(store: { keyBytesMax: number; valueBytesMax: number }): RecordLimits {
  const keyBytesMax = store.keyBytesMax - slotIndexKey(slotMax, new Uint8Array(0)).length;
  // The hint envelope holds the record plus the key and target; it is the largest value written for a key.
  const empty = widestEmptyRecord();
  const hintOverhead = hintValue(
    longId,
    new Uint8Array(Math.max(0, keyBytesMax)),
    slotMax,
    empty,
    bigCounter,
    bigCounter,
  ).length;
  const recordOverhead = encodeValue({ v: REPLICA_FORMAT_VERSION, s: recordToWire(empty) }).length;
  // A byte string's CBOR length head grows from 1 to 5 bytes past 65535 bytes.
  const valueBytesMax = store.valueBytesMax - Math.max(hintOverhead, recordOverhead) - 4;
  return { keyBytesMax: Math.max(0, keyBytesMax), valueBytesMax: Math.max(0, valueBytesMax) };
}

/** Throws `LimitExceededError` when `key` or `value` is over `limits`. */
export function checkRecordInput(limits: RecordLimits, key: Uint8Array, value: Uint8Array | null): void {
  // Escaping only lengthens a key, so an over-long one is refused before it is encoded.
  const keyBytes = key.length > limits.keyBytesMax ? key.length : escapedKeyBytes(key);
  if (keyBytes > limits.keyBytesMax)
    throw new LimitExceededError('keyBytesMax', limits.keyBytesMax, keyBytes);
  if (value !== null && value.length > limits.valueBytesMax) {
    throw new LimitExceededError('valueBytesMax', limits.valueBytesMax, value.length);
  }
}

/**
 * Throws `LimitExceededError('idempotencyKeyBytesMax', …)` when the
 * idempotency record of (`key`, `idempotencyKey`) would not fit a store key
 * of `storeKeyBytesMax`: the room left depends on the key's length.
 */
export function checkIdempotencyKey(storeKeyBytesMax: number, key: Uint8Array, idempotencyKey: string): void {
  const wrapper = idempotencyStoreKey(key, '').length;
  const actual = idempotencyStoreKey(key, idempotencyKey).length - wrapper;
  const max = storeKeyBytesMax - wrapper;
  if (actual > max) throw new LimitExceededError('idempotencyKeyBytesMax', Math.max(0, max), actual);
}
