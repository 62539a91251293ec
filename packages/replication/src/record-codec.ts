/**
 * The CBOR form of a `ReplicaRecord`, on disk and on the wire (see
 * docs/spec/replication.md), and its strict check: data from a peer or a
 * disk is checked before use.
 */
import { compareStamps } from '@tessera/core';
import { BadFrameError } from './errors.ts';
import { actorLengthMax, siblingsMax, valueBytesMax, versionVectorEntriesMax } from './limits.ts';
import { type ReplicaRecord, type Sibling, stampOf, type VersionVector } from './record.ts';

/** Wire shape: `{ vv: [[actor, counter]…], s: [[actor, counter, mintedMs, deleted, value|null]…] }`. */
export interface RecordWire {
  vv: [string, number][];
  s: [string, number, number, boolean, Uint8Array | null][];
}

export function recordToWire(record: ReplicaRecord): RecordWire {
  return {
    vv: record.vv.map(([actor, counter]) => [actor, counter]),
    s: record.siblings.map((s) => [
      s.actor,
      s.counter,
      s.mintedMs,
      s.deleted,
      s.deleted ? null : (s.value ?? null),
    ]),
  };
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

function checkActor(value: unknown, path: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > actorLengthMax) {
    fail(path, `actor must be a string of 1..${actorLengthMax}`);
  }
  return value;
}

/** Checks a version vector in wire form; throws `BadFrameError`. */
export function vectorFromWire(raw: unknown, path: string): VersionVector {
  if (!Array.isArray(raw) || raw.length > versionVectorEntriesMax) {
    fail(path, `must be an array of at most ${versionVectorEntriesMax} entries`);
  }
  const out: [string, number][] = [];
  let previous = '';
  for (const [i, entry] of raw.entries()) {
    if (!Array.isArray(entry) || entry.length !== 2) fail(`${path}[${i}]`, 'must be [actor, counter]');
    const actor = checkActor(entry[0], `${path}[${i}]`);
    if (!isCounter(entry[1])) fail(`${path}[${i}]`, 'counter must be a positive safe integer');
    if (i > 0 && actor <= previous) fail(`${path}[${i}]`, 'actors must be sorted and unique');
    previous = actor;
    out.push([actor, entry[1]]);
  }
  return out;
}

/** Checks and converts a record in wire form; throws `BadFrameError`. */
export function recordFromWire(raw: unknown, path = 'record'): ReplicaRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'must be a map');
  const { vv: rawVv, s: rawSiblings } = raw as { vv?: unknown; s?: unknown };
  const vv = vectorFromWire(rawVv, `${path}.vv`);
  const known = new Map(vv);
  if (!Array.isArray(rawSiblings) || rawSiblings.length === 0 || rawSiblings.length > siblingsMax) {
    fail(`${path}.s`, `must hold 1..${siblingsMax} siblings`);
  }
  const siblings: Sibling[] = [];
  const dots = new Set<string>();
  for (const [i, entry] of rawSiblings.entries()) {
    const at = `${path}.s[${i}]`;
    if (!Array.isArray(entry) || entry.length !== 5)
      fail(at, 'must be [actor, counter, mintedMs, deleted, value]');
    const [rawActor, counter, mintedMs, deleted, value] = entry as unknown[];
    const actor = checkActor(rawActor, at);
    if (!isCounter(counter)) fail(at, 'counter must be a positive safe integer');
    if (typeof mintedMs !== 'number' || !Number.isFinite(mintedMs) || mintedMs < 0) fail(at, 'bad mintedMs');
    if (typeof deleted !== 'boolean') fail(at, 'deleted must be a boolean');
    if (deleted ? value !== null : !isBytes(value) || value.length > valueBytesMax) {
      fail(at, deleted ? 'a tombstone has no value' : `value must be bytes of at most ${valueBytesMax}`);
    }
    if (counter > (known.get(actor) ?? 0)) fail(at, 'sibling dot is not covered by the record vector');
    const dot = `${counter}\u0000${actor}`;
    if (dots.has(dot)) fail(at, 'duplicate dot');
    dots.add(dot);
    siblings.push(
      deleted
        ? { actor, counter, mintedMs, deleted: true }
        : { actor, counter, mintedMs, deleted: false, value: value as Uint8Array },
    );
  }
  for (let i = 1; i < siblings.length; i++) {
    const a = siblings[i - 1]!;
    const b = siblings[i]!;
    if (compareStamps(stampOf(a), stampOf(b)) <= 0) {
      fail(`${path}.s`, 'siblings must be ordered winner first');
    }
  }
  return { vv, siblings };
}
