/**
 * The value of a plain key-value record: the standard CBOR map
 * `{ v: bytes, exp?: unix ms }` through core's `encodeValue`, so any CBOR
 * decoder (and `tessera inspect`) reads it.
 */
import { decodeValue, encodeValue, MalformedValueError } from '@tessera/core';

export function encodeKvRecord(value: Uint8Array, expiresAtMs?: number): Uint8Array {
  // A plain view: cbor-x must see bytes, not a Buffer with its own encoding.
  const v = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return encodeValue(expiresAtMs === undefined ? { v } : { v, exp: expiresAtMs });
}

export function decodeKvRecord(bytes: Uint8Array): { value: Uint8Array; expiresAtMs?: number } {
  const record = decodeValue<{ v?: unknown; exp?: unknown }>(bytes);
  if (typeof record !== 'object' || record === null || !(record.v instanceof Uint8Array)) {
    throw new MalformedValueError('kv record without a byte string "v"');
  }
  if (record.exp === undefined) return { value: record.v };
  if (typeof record.exp !== 'number' || !Number.isSafeInteger(record.exp)) {
    throw new MalformedValueError('kv record with a malformed "exp"');
  }
  return { value: record.v, expiresAtMs: record.exp };
}
