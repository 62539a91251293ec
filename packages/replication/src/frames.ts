/**
 * Replication frames: what one peer sends another over
 * `/tessera/replication/1.0.0` (see docs/spec/replication.md). A request
 * frame is one CBOR map carrying the sender's Lamport clock and up to
 * `opsPerFrameMax` operations; the reply carries one result per operation,
 * in order, or one frame-level error. Everything received is checked here
 * before any of it is used; a bad frame is refused whole.
 */

import {
  decodeValue,
  encodeValue,
  REPLICA_ID_LENGTH_MAX,
  SLOT_COUNT,
  type VersionVector,
} from '@tessera/core';
import { isBucket } from './buckets.ts';
import { replicationFactorMax } from './consistency.ts';
import { BadFrameError } from './errors.ts';
import { type Bytes, checkKey, checkLimit, checkSlot } from './frame-checks.ts';
import {
  bucketLevelsMax,
  bucketParentsPerOpMax,
  digestSlotsPerOpMax,
  frameBytesMax,
  idempotencyKeyLengthMax,
  opsPerFrameMax,
  scanEntriesPerPageMax,
  slotEntriesPerPageMax,
  valueBytesMax,
} from './limits.ts';
import type { ReplicaRecord } from './record.ts';
import {
  contextFromWire,
  isBytes,
  isCounter,
  isReplicaId,
  recordFromWire,
  recordToWire,
} from './record-codec.ts';

/**
 * Frame format version (see docs/spec/replication.md). 2: records and contexts are core dotted
 * versions; 3: `records` pages carry stored record bytes and take `minN`.
 */
export const FRAME_VERSION = 3;

/** Mint a new version on the receiving owner (it becomes the write's coordinating replica). */
export interface MintOp {
  readonly op: 'mint';
  readonly key: Bytes;
  readonly slot: number;
  readonly deleted: boolean;
  readonly value: Bytes | null;
  readonly context: VersionVector | null;
  readonly idempotencyKey: string | null;
}
/** Merge a record into the receiver's copy, durably. */
export interface ApplyOp {
  readonly op: 'apply';
  readonly key: Bytes;
  readonly slot: number;
  readonly record: ReplicaRecord;
}
/** Return the receiver's record for a key. */
export interface ReadOp {
  readonly op: 'read';
  readonly key: Bytes;
}
/** Store an idempotency record after a write reached its quorum. */
export interface RememberOp {
  readonly op: 'remember';
  readonly key: Bytes;
  readonly idempotencyKey: string;
  readonly result: IdempotentResult;
}
/**
 * Return the receiver's root digest of each named slot, over the keys whose
 * database has replication factor N ≥ `minN` (the keys two owners at
 * positions below `minN` of the slot's owner list both hold).
 */
export interface DigestsOp {
  readonly op: 'digests';
  readonly slots: readonly number[];
  readonly minN: number;
}
/** Return (digest, count) of the 16 children of each parent bucket at `level` of a slot's hash tree (keys with N ≥ `minN`). */
export interface ChildrenOp {
  readonly op: 'children';
  readonly slot: number;
  readonly minN: number;
  readonly level: number;
  readonly parents: readonly number[];
}
/** Return one page of (key, version hash) of a bucket of a slot's hash tree (keys with N ≥ `minN`), after key `after`. */
export interface EntriesOp {
  readonly op: 'entries';
  readonly slot: number;
  readonly minN: number;
  readonly level: number;
  readonly bucket: number;
  readonly after: Bytes | null;
  readonly limit: number;
}
/**
 * Return one page of a slot's records (key and whole record, in slot-index
 * order) after key `after`: what a new owner pulls into a slot it holds
 * nothing of, instead of listing entries and reading each. The records of
 * one reply frame stay within `recordsFrameBytesMax` stored bytes.
 */
export interface RecordsOp {
  readonly op: 'records';
  readonly slot: number;
  /** Only keys whose database's N is at least this (1: every key; on the wire, absent means 1). */
  readonly minN?: number;
  readonly after: Bytes | null;
  readonly limit: number;
}
/** Remove the key's record if (and only if) its version hash still equals `versionHash` and it is all tombstones. */
export interface ReapOp {
  readonly op: 'reap';
  readonly key: Bytes;
  readonly slot: number;
  readonly versionHash: Bytes;
}

/**
 * Return one page of the receiver's entries in [`start`, `end`) after
 * `after`, of the slots set in the `slots` bitmap: derived entries (e.g.
 * index entries) or the winning values of live records (`mode`).
 */
export interface ScanOp {
  readonly op: 'scan';
  readonly start: Bytes;
  readonly end: Bytes;
  readonly after: Bytes | null;
  readonly limit: number;
  /** `SLOT_COUNT` bits, slot s at bit s & 7 of byte s >> 3. */
  readonly slots: Bytes;
  readonly mode: 'derived' | 'records';
}

export type ReplicaOp =
  | MintOp
  | ApplyOp
  | ReadOp
  | RememberOp
  | DigestsOp
  | ChildrenOp
  | EntriesOp
  | RecordsOp
  | ReapOp
  | ScanOp;

/** What a write returned, kept so a retry with the same idempotency key returns it again. */
export interface IdempotentResult {
  /** Hash of (deleted, value): a retry with other content is a conflict. */
  readonly contentHash: Bytes;
  /** The stamp of the version the original write created: its node (the minting actor)… */
  readonly actor: string;
  /** …and its Lamport clock. */
  readonly counter: number;
  readonly acknowledged: number;
  readonly required: number;
}

/** Per-operation results (the wire shapes). */
export type OpResult =
  | { readonly ok: true; readonly record?: ReplicaRecord | null; readonly duplicate?: IdempotentResult }
  | { readonly ok: true; readonly digests: readonly Bytes[] }
  | { readonly ok: true; readonly children: ReadonlyArray<readonly [Bytes, number]> }
  | { readonly ok: true; readonly entries: ReadonlyArray<readonly [Bytes, Bytes]>; readonly more: boolean }
  | { readonly ok: true; readonly reaped: boolean }
  | {
      readonly ok: true;
      /** Each record as its stored bytes (`{ v, s }`; `recordFromStored` reads them). */
      readonly records: ReadonlyArray<readonly [Bytes, Bytes]>;
      readonly more: boolean;
    }
  | {
      readonly ok: true;
      readonly scanned: ReadonlyArray<readonly [Bytes, Bytes]>;
      readonly next: Bytes | null;
    }
  | { readonly ok: false; readonly code: string; readonly message: string };

/** A decoded request frame. */
export interface RequestFrame {
  readonly clock: number;
  readonly ops: readonly ReplicaOp[];
}

/** A decoded reply frame: results in op order, or a frame-level error. */
export type ReplyFrame =
  | { readonly clock: number; readonly results: readonly unknown[] }
  | { readonly clock: number; readonly error: { readonly code: string; readonly message: string } };

function opToWire(op: ReplicaOp): Record<string, unknown> {
  switch (op.op) {
    case 'apply':
      return { op: 'apply', key: op.key, slot: op.slot, record: recordToWire(op.record) };
    case 'mint':
      return { ...op };
    case 'remember':
      return { op: 'remember', key: op.key, ik: op.idempotencyKey, result: idempotentToWire(op.result) };
    default:
      return { ...op };
  }
}

export function idempotentToWire(result: IdempotentResult): Record<string, unknown> {
  return {
    ch: result.contentHash,
    a: result.actor,
    n: result.counter,
    ack: result.acknowledged,
    req: result.required,
  };
}

export function idempotentFromWire(raw: unknown, path: string): IdempotentResult {
  if (typeof raw !== 'object' || raw === null) throw new BadFrameError(`${path}: must be a map`);
  const { ch, a, n, ack, req } = raw as Record<string, unknown>;
  if (!isBytes(ch) || ch.length !== 8) throw new BadFrameError(`${path}.ch: must be 8 bytes`);
  if (!isReplicaId(a))
    throw new BadFrameError(`${path}.a: actor must be a string of 1..${REPLICA_ID_LENGTH_MAX}`);
  if (!isCounter(n)) throw new BadFrameError(`${path}.n: bad counter`);
  for (const [name, value] of [
    ['ack', ack],
    ['req', req],
  ] as const) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 64) {
      throw new BadFrameError(`${path}.${name}: bad count`);
    }
  }
  return { contentHash: ch, actor: a, counter: n, acknowledged: ack as number, required: req as number };
}

/** Encodes a request frame; throws `BadFrameError` when it would exceed a frame limit. */
export function encodeRequest(clock: number, ops: readonly ReplicaOp[]): Uint8Array {
  if (ops.length === 0 || ops.length > opsPerFrameMax)
    throw new BadFrameError(`1..${opsPerFrameMax} ops per frame`);
  const bytes = encodeValue({ v: FRAME_VERSION, clock, ops: ops.map(opToWire) });
  if (bytes.length > frameBytesMax)
    throw new BadFrameError(`frame of ${bytes.length} bytes > ${frameBytesMax}`);
  return bytes;
}

function checkMinN(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > replicationFactorMax) {
    throw new BadFrameError(`${path}: an integer in 1..${replicationFactorMax}`);
  }
  return value;
}

function checkIdempotencyKey(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > idempotencyKeyLengthMax) {
    throw new BadFrameError(`${path}: idempotency key must be a string of 1..${idempotencyKeyLengthMax}`);
  }
  return value;
}

function opFromWire(raw: unknown, path: string): ReplicaOp {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BadFrameError(`${path}: must be a map`);
  const o = raw as Record<string, unknown>;
  switch (o.op) {
    case 'mint': {
      if (typeof o.deleted !== 'boolean') throw new BadFrameError(`${path}.deleted: must be a boolean`);
      if (o.deleted ? o.value !== null : !isBytes(o.value) || o.value.length > valueBytesMax) {
        throw new BadFrameError(`${path}.value: bytes of at most ${valueBytesMax}, or null for a delete`);
      }
      return {
        op: 'mint',
        key: checkKey(o.key, `${path}.key`),
        slot: checkSlot(o.slot, `${path}.slot`),
        deleted: o.deleted,
        value: o.deleted ? null : (o.value as Bytes),
        context: o.context === null ? null : contextFromWire(o.context, `${path}.context`),
        idempotencyKey:
          o.idempotencyKey === null ? null : checkIdempotencyKey(o.idempotencyKey, `${path}.ik`),
      };
    }
    case 'apply':
      return {
        op: 'apply',
        key: checkKey(o.key, `${path}.key`),
        slot: checkSlot(o.slot, `${path}.slot`),
        record: recordFromWire(o.record, `${path}.record`),
      };
    case 'read':
      return { op: 'read', key: checkKey(o.key, `${path}.key`) };
    case 'remember':
      return {
        op: 'remember',
        key: checkKey(o.key, `${path}.key`),
        idempotencyKey: checkIdempotencyKey(o.ik, `${path}.ik`),
        result: idempotentFromWire(o.result, `${path}.result`),
      };
    case 'digests': {
      if (!Array.isArray(o.slots) || o.slots.length === 0 || o.slots.length > digestSlotsPerOpMax) {
        throw new BadFrameError(`${path}.slots: 1..${digestSlotsPerOpMax} slots`);
      }
      return {
        op: 'digests',
        slots: o.slots.map((slot, i) => checkSlot(slot, `${path}.slots[${i}]`)),
        minN: checkMinN(o.minN, `${path}.minN`),
      };
    }
    case 'children': {
      const level = o.level;
      if (typeof level !== 'number' || !Number.isInteger(level) || level < 0 || level >= bucketLevelsMax) {
        throw new BadFrameError(`${path}.level: 0..${bucketLevelsMax - 1}`);
      }
      if (!Array.isArray(o.parents) || o.parents.length === 0 || o.parents.length > bucketParentsPerOpMax) {
        throw new BadFrameError(`${path}.parents: 1..${bucketParentsPerOpMax} buckets`);
      }
      for (const [i, parent] of o.parents.entries()) {
        if (!isBucket(level, parent))
          throw new BadFrameError(`${path}.parents: not a bucket of level ${level}`);
        // Ascending and unique, so one op scans each part of the slot at most once.
        if (i > 0 && parent <= o.parents[i - 1]) throw new BadFrameError(`${path}.parents: must ascend`);
      }
      return {
        op: 'children',
        slot: checkSlot(o.slot, `${path}.slot`),
        minN: checkMinN(o.minN, `${path}.minN`),
        level,
        parents: o.parents as number[],
      };
    }
    case 'entries': {
      if (o.after !== null) checkKey(o.after, `${path}.after`);
      const limit = checkLimit(o.limit, slotEntriesPerPageMax, `${path}.limit`);
      if (!isBucket(o.level, o.bucket)) throw new BadFrameError(`${path}.bucket: not a bucket of the tree`);
      return {
        op: 'entries',
        slot: checkSlot(o.slot, `${path}.slot`),
        minN: checkMinN(o.minN, `${path}.minN`),
        level: o.level as number,
        bucket: o.bucket as number,
        after: (o.after as Bytes) ?? null,
        limit,
      };
    }
    case 'records': {
      if (o.after !== null) checkKey(o.after, `${path}.after`);
      const limit = checkLimit(o.limit, slotEntriesPerPageMax, `${path}.limit`);
      return {
        op: 'records',
        slot: checkSlot(o.slot, `${path}.slot`),
        minN: o.minN === undefined ? 1 : checkMinN(o.minN, `${path}.minN`),
        after: (o.after as Bytes) ?? null,
        limit,
      };
    }
    case 'reap': {
      if (!isBytes(o.versionHash) || o.versionHash.length !== 8) {
        throw new BadFrameError(`${path}.versionHash: must be 8 bytes`);
      }
      return {
        op: 'reap',
        key: checkKey(o.key, `${path}.key`),
        slot: checkSlot(o.slot, `${path}.slot`),
        versionHash: o.versionHash,
      };
    }
    case 'scan': {
      const limit = checkLimit(o.limit, scanEntriesPerPageMax, `${path}.limit`);
      if (!isBytes(o.slots) || o.slots.length !== SLOT_COUNT / 8) {
        throw new BadFrameError(`${path}.slots: a bitmap of ${SLOT_COUNT / 8} bytes`);
      }
      if (o.mode !== 'derived' && o.mode !== 'records')
        throw new BadFrameError(`${path}.mode: derived or records`);
      return {
        op: 'scan',
        start: checkKey(o.start, `${path}.start`),
        end: checkKey(o.end, `${path}.end`),
        after: o.after === null ? null : checkKey(o.after, `${path}.after`),
        limit,
        slots: o.slots,
        mode: o.mode,
      };
    }
    default:
      throw new BadFrameError(`${path}.op: unknown operation ${JSON.stringify(String(o.op)).slice(0, 40)}`);
  }
}

function decodeFrameMap(bytes: Uint8Array): Record<string, unknown> {
  if (!(bytes instanceof Uint8Array)) throw new BadFrameError('frame must be bytes');
  if (bytes.length > frameBytesMax)
    throw new BadFrameError(`frame of ${bytes.length} bytes > ${frameBytesMax}`);
  let raw: unknown;
  try {
    raw = decodeValue(bytes);
  } catch {
    throw new BadFrameError('not one well-formed CBOR item');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new BadFrameError('frame must be a map');
  const frame = raw as Record<string, unknown>;
  if (frame.v !== FRAME_VERSION) throw new BadFrameError(`unsupported frame version ${String(frame.v)}`);
  if (typeof frame.clock !== 'number' || !Number.isSafeInteger(frame.clock) || frame.clock < 0) {
    throw new BadFrameError('clock must be a non-negative safe integer');
  }
  return frame;
}

/** Decodes and checks a request frame from a peer; throws `BadFrameError` and uses nothing when any part is bad. */
export function decodeRequest(bytes: Uint8Array): RequestFrame {
  const frame = decodeFrameMap(bytes);
  if (!Array.isArray(frame.ops) || frame.ops.length === 0 || frame.ops.length > opsPerFrameMax) {
    throw new BadFrameError(`ops must be an array of 1..${opsPerFrameMax}`);
  }
  return { clock: frame.clock as number, ops: frame.ops.map((op, i) => opFromWire(op, `ops[${i}]`)) };
}

function resultToWire(result: OpResult): Record<string, unknown> {
  if (!result.ok) return { ...result };
  const out: Record<string, unknown> = { ...result };
  if ('record' in result) out.record = result.record ? recordToWire(result.record) : null;
  if ('duplicate' in result && result.duplicate) out.duplicate = idempotentToWire(result.duplicate);
  return out;
}

/** Encodes a reply with one result per request op. */
export function encodeReply(clock: number, results: readonly OpResult[]): Uint8Array {
  return encodeValue({ v: FRAME_VERSION, clock, results: results.map(resultToWire) });
}

/** Encodes a frame-level error reply (the whole request was refused). */
export function encodeErrorReply(clock: number, code: string, message: string): Uint8Array {
  return encodeValue({ v: FRAME_VERSION, clock, error: { code, message: message.slice(0, 500) } });
}

/** Decodes a reply frame from a peer; result shapes are checked per op by the caller (see replies.ts). */
export function decodeReply(bytes: Uint8Array, opCount: number): ReplyFrame {
  const frame = decodeFrameMap(bytes);
  if (frame.error !== undefined) {
    const error = frame.error as { code?: unknown; message?: unknown } | null;
    if (typeof error !== 'object' || error === null || typeof error.code !== 'string') {
      throw new BadFrameError('error must be { code, message }');
    }
    return {
      clock: frame.clock as number,
      error: { code: error.code, message: String(error.message ?? '') },
    };
  }
  if (!Array.isArray(frame.results) || frame.results.length !== opCount) {
    throw new BadFrameError(`results must be an array of ${opCount}`);
  }
  return { clock: frame.clock as number, results: frame.results };
}
