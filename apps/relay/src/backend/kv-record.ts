/**
 * How plain key-value records sit in the store. `SET k v` in database `db`
 * is an object in the built-in collection `kv` (ARCHITECTURE.md: plain
 * key-value use shares the object storage path):
 *
 *   key   encodeKey('O', [db, 'kv', k])          k as a bytes element (binary-safe)
 *   value CBOR map { v: bytes, exp?: unix ms }    standard CBOR, any decoder reads it
 *
 * A key with a TTL also has an expiry index entry, so expired keys are found
 * in expiry order without scanning every object:
 *
 *   key   encodeKey('I', [db, 'kv', 'exp', expMs, k], { valueType: INDEX_SECONDARY })
 *   value empty
 *
 * The index entry lives beside its object under the same routing key `k`,
 * so it moves and replicates with it.
 */
import { decodeKey, encodeKey, INDEX_SECONDARY, keyRange, MalformedValueError } from '@tessera/core';

/** The built-in collection plain key-value records live in. */
export const KV_COLLECTION = 'kv';
/** Name of the expiry index of that collection. */
export const EXPIRY_INDEX = 'exp';

/** A decoded record. */
export interface KvRecord {
  readonly value: Uint8Array;
  /** Absolute expiry in Unix milliseconds, if the key has a TTL. */
  readonly expiresAtMs?: number;
}

export function objectKey(db: number, key: Uint8Array): Uint8Array {
  return encodeKey('O', [db, KV_COLLECTION, key]);
}

/** The range of every plain key of `db`. */
export function objectRange(db: number): { start: Uint8Array; end: Uint8Array } {
  return keyRange('O', [db, KV_COLLECTION]);
}

/** The user key held in an object key of this collection. */
export function userKeyOf(objectKeyBytes: Uint8Array): Uint8Array {
  const element = decodeKey(objectKeyBytes).elements[2];
  if (!(element instanceof Uint8Array))
    throw new MalformedValueError('kv object key without a bytes key element');
  return element;
}

export function expiryKey(db: number, expiresAtMs: number, key: Uint8Array): Uint8Array {
  return encodeKey('I', [db, KV_COLLECTION, EXPIRY_INDEX, expiresAtMs, key], { valueType: INDEX_SECONDARY });
}

/** The range of expiry entries of `db` due at or before `nowMs`. */
export function dueExpiryRange(db: number, nowMs: number): { start: Uint8Array; end: Uint8Array } {
  const options = { valueType: INDEX_SECONDARY };
  return {
    start: keyRange('I', [db, KV_COLLECTION, EXPIRY_INDEX], options).start,
    end: encodeKey('I', [db, KV_COLLECTION, EXPIRY_INDEX, nowMs + 1], options),
  };
}

/** Every expiry entry of `db`. */
export function expiryRange(db: number): { start: Uint8Array; end: Uint8Array } {
  return keyRange('I', [db, KV_COLLECTION, EXPIRY_INDEX], { valueType: INDEX_SECONDARY });
}

/** The expiry time and user key of an expiry entry. */
export function parseExpiryKey(bytes: Uint8Array): { expiresAtMs: number; key: Uint8Array } {
  const elements = decodeKey(bytes).elements;
  const expiresAtMs = elements[3];
  const key = elements[4];
  if (typeof expiresAtMs !== 'number' || !(key instanceof Uint8Array)) {
    throw new MalformedValueError('malformed kv expiry index key');
  }
  return { expiresAtMs, key };
}

export { decodeKvRecord, encodeKvRecord } from './kv-value.ts';
