/**
 * The CBOR form of a `ReplicaRecord`, on disk and on the wire (see
 * docs/spec/replication.md): an array of core versions, as is. Data from a
 * peer or a disk is checked with core's `parseVersion` plus the replication
 * bounds before use, and rebuilt as fresh objects.
 */
import {
  compareDots,
  isLamportStamp,
  parseVersion,
  parseVersionVector,
  REPLICA_ID_LENGTH_MAX,
  TesseraError,
  type VersionVector,
} from '@tessera/core';
import { BadFrameError } from './errors.ts';
import { siblingsMax, valueBytesMax, versionVectorEntriesMax } from './limits.ts';
import type { Payload, ReplicaRecord, Sibling } from './record.ts';

/** Wire shape of one sibling: a core `Version` whose value is `{ bytes, mintedMs }`. */
export interface SiblingWire {
  dot: { replica: string; counter: number };
  context: VersionVector;
  stamp: { clock: number; node: string };
  value: { bytes: Uint8Array | null; mintedMs: number };
}

export function recordToWire(record: ReplicaRecord): SiblingWire[] {
  return record.map((sibling) => ({
    dot: { replica: sibling.dot.replica, counter: sibling.dot.counter },
    context: sibling.context,
    stamp: { clock: sibling.stamp.clock, node: sibling.stamp.node },
    value: { bytes: sibling.value.bytes, mintedMs: sibling.value.mintedMs },
  }));
}

function fail(path: string, message: string): never {
  throw new BadFrameError(`${path}: ${message}`);
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function isCounter(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0;
}

/** True for a replica id (also a stamp's node): a non-empty string within core's bound. */
export function isReplicaId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= REPLICA_ID_LENGTH_MAX;
}

/** Runs a core check and turns its typed error into `BadFrameError` at `path`. */
function checked<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof TesseraError) fail(path, error.message);
    throw error;
  }
}

/** Checks a client context (a read's context in a write request); throws `BadFrameError`. */
export function contextFromWire(raw: unknown, path: string): VersionVector {
  return checked(path, () => parseVersionVector(raw));
}

function payloadFromWire(raw: unknown, path: string): Payload {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'must be a map');
  const { bytes, mintedMs } = raw as { bytes?: unknown; mintedMs?: unknown };
  if (bytes !== null && (!isBytes(bytes) || bytes.length > valueBytesMax)) {
    fail(`${path}.bytes`, `must be bytes of at most ${valueBytesMax}, or null for a tombstone`);
  }
  if (typeof mintedMs !== 'number' || !Number.isFinite(mintedMs) || mintedMs < 0) {
    fail(`${path}.mintedMs`, 'must be a non-negative number');
  }
  return { bytes, mintedMs };
}

function siblingFromWire(raw: unknown, path: string): Sibling {
  const version = checked(path, () => parseVersion(raw, { entriesMax: versionVectorEntriesMax }));
  // parseVersion checks the stamp's shape; its node id gets the replica-id bound too.
  if (!isLamportStamp(version.stamp) || !isReplicaId(version.stamp.node)) {
    fail(`${path}.stamp`, `node must be a string of 1..${REPLICA_ID_LENGTH_MAX}`);
  }
  return {
    dot: { replica: version.dot.replica, counter: version.dot.counter },
    context: checked(`${path}.context`, () =>
      parseVersionVector(version.context, { entriesMax: versionVectorEntriesMax }),
    ),
    stamp: { clock: version.stamp.clock, node: version.stamp.node },
    value: payloadFromWire(version.value, `${path}.value`),
  };
}

/** Checks and converts a record in wire form (1..siblingsMax siblings, strictly ordered by dot); throws `BadFrameError`. */
export function recordFromWire(raw: unknown, path = 'record'): ReplicaRecord {
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > siblingsMax) {
    fail(path, `must be an array of 1..${siblingsMax} siblings`);
  }
  const siblings = raw.map((entry, i) => siblingFromWire(entry, `${path}[${i}]`));
  for (let i = 1; i < siblings.length; i++) {
    if (compareDots(siblings[i - 1]!.dot, siblings[i]!.dot) >= 0) {
      fail(`${path}[${i}]`, 'siblings must be sorted by dot, without duplicates');
    }
  }
  return siblings;
}
