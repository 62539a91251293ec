/**
 * The key-value half of the HTTP API. A key `k` of tenant `t` is the object
 * `encodeKey('O', [t, 'kv', utf8(k)])` of the built-in collection `kv`,
 * routed by `k` itself (the peer's plain key-value layout, with the tenant
 * as the database), and its value is the JSON value as standard CBOR.
 */
import { decodeValue, encodeKey, encodeValue } from '@tessera/core';
import { ApiError } from './errors.ts';
import type { RecordReadResult, RecordVersion, RecordWriteResult } from './records.ts';

export type ConsistencyName = 'one' | 'quorum' | 'all';
/** Longest key, UTF-8 bytes. */
export const KEY_BYTES_MAX = 1024;
/** Longest Idempotency-Key header, characters. */
export const IDEMPOTENCY_KEY_CHARS_MAX = 255;
const encoder = new TextEncoder();

/** pairDB's vector clock entry. */
export interface VectorClockEntry {
  readonly coordinator_node_id: string;
  readonly logical_timestamp: number;
}

export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new ApiError('INVALID_REQUEST', 'key must be a non-empty string');
  if (encoder.encode(key).length > KEY_BYTES_MAX) {
    throw new ApiError('INVALID_REQUEST', `key is over ${KEY_BYTES_MAX} UTF-8 bytes`);
  }
  return key;
}

export function checkConsistency(value: unknown, fallback: ConsistencyName): ConsistencyName {
  if (value === undefined || value === null || value === '') return fallback;
  if (value !== 'one' && value !== 'quorum' && value !== 'all') {
    throw new ApiError(
      'INVALID_REQUEST',
      `consistency must be one, quorum or all, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

export function checkIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value) || value.length === 0 || value.length > IDEMPOTENCY_KEY_CHARS_MAX) {
    throw new ApiError(
      'INVALID_REQUEST',
      `Idempotency-Key must be one header of 1..${IDEMPOTENCY_KEY_CHARS_MAX} characters`,
    );
  }
  return value;
}

export function kvKey(tenant: string, key: string): Uint8Array {
  return encodeKey('O', [tenant, 'kv', encoder.encode(key)]);
}

export function encodeJsonValue(value: unknown): Uint8Array {
  if (value === undefined) throw new ApiError('INVALID_REQUEST', 'value is required');
  return encodeValue(value);
}

export function decodeJsonValue(bytes: Uint8Array): unknown {
  return decodeValue(bytes);
}

/** A write's clock: the one dot it minted. */
export function writeClock(version: RecordVersion): VectorClockEntry[] {
  return [{ coordinator_node_id: version.node, logical_timestamp: version.clock }];
}

/** A read's clock: its causal context, one entry per coordinating actor. */
export function readClock(read: RecordReadResult): VectorClockEntry[] {
  const pairs = Array.isArray(read.context)
    ? (read.context as ReadonlyArray<readonly [string, number]>)
    : Object.entries(read.context);
  return pairs.map(([node, counter]) => ({ coordinator_node_id: node, logical_timestamp: counter }));
}

export function writeBody(
  tenant: string,
  key: string,
  consistency: ConsistencyName,
  result: RecordWriteResult,
  idempotencyKey: string | undefined,
): Record<string, unknown> {
  return {
    status: 'success',
    tenant_id: tenant,
    key,
    ...(idempotencyKey === undefined ? {} : { idempotency_key: idempotencyKey }),
    vector_clock: writeClock(result.version),
    replica_count: result.acknowledged,
    consistency,
    is_duplicate: result.isDuplicate,
  };
}
