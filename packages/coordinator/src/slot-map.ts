/**
 * The slot map: for every slot, its owners in order (primary first) and the
 * epoch at which that assignment was made. This file holds the data type,
 * its CBOR wire form, the checks a map from another peer must pass, and
 * per-slot helpers. Bytes are specified in docs/spec/slot-map.md.
 */
import {
  compareNodeIds,
  coversAllSlotsOnce,
  decodeValue,
  encodeKey,
  encodeValue,
  SLOT_COUNT,
  type SlotRange,
} from '@tessera/core';
import type { PeerIdString } from './env.ts';
import { InvalidSlotMapError } from './slot-map-errors.ts';

/** A run of slots with one owner list. */
export interface SlotMapRange extends SlotRange {
  /** Owners in order, primary first, all distinct. */
  readonly owners: readonly PeerIdString[];
  /** The map epoch at which this range got these owners in this order. */
  readonly epoch: number;
}

/** A whole slot map: ranges sorted by start, covering 0..16383 exactly once (none at epoch 0). */
export interface SlotMap {
  /** Bumped by every committed change; 0 = no map yet. */
  readonly epoch: number;
  /** Requested copies of every slot (N); each range has min(N, owners in the map) owners. */
  readonly replicas: number;
  readonly ranges: readonly SlotMapRange[];
}

/** The map every peer starts from before the first commit. */
export const EMPTY_SLOT_MAP: SlotMap = Object.freeze({ epoch: 0, replicas: 0, ranges: Object.freeze([]) });

/** Version of the wire form (`v`). */
export const SLOT_MAP_WIRE_VERSION = 1;
/** Most ranges in one map (keeps a map inside one coordinator message). */
export const slotMapRangesMax = 4096;
/** Most distinct owners in one map. */
export const slotMapOwnersMax = 1024;
/** Largest replication factor a map may carry. */
export const slotMapReplicasMax = 16;
/** Longest owner id, in characters. */
export const ownerIdCharsMax = 256;

/**
 * The wire form: owner ids once in a sorted table, ranges as
 * `[start, end, epoch, [ownerIndex…]]`, so a map of a few hundred ranges
 * fits in one coordinator message.
 */
export interface SlotMapWire {
  readonly v: number;
  readonly epoch: number;
  readonly replicas: number;
  readonly owners: readonly PeerIdString[];
  readonly ranges: readonly (readonly [number, number, number, readonly number[]])[];
}

/** `S, 'slotmap', cluster` -> CBOR `{ map: SlotMapWire, proposal: [clock, origin] | null }`. */
export const slotMapKey = (cluster: string): Uint8Array => encodeKey('S', ['slotmap', cluster]);

const isNat = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

/** The distinct owners of `map`, sorted by id. */
export function mapOwners(map: SlotMap): PeerIdString[] {
  const set = new Set<PeerIdString>();
  for (const r of map.ranges) for (const o of r.owners) set.add(o);
  return [...set].sort(compareNodeIds);
}

export function toWire(map: SlotMap): SlotMapWire {
  const owners = mapOwners(map);
  const index = new Map(owners.map((id, i) => [id, i]));
  return {
    v: SLOT_MAP_WIRE_VERSION,
    epoch: map.epoch,
    replicas: map.replicas,
    owners,
    ranges: map.ranges.map((r) => [r.start, r.end, r.epoch, r.owners.map((o) => index.get(o)!)] as const),
  };
}

/** Options for `validateSlotMap`/`fromWire`. */
export interface SlotMapCheck {
  /** When given, every owner must pass (e.g. a known member with role `owner`). */
  readonly isKnownOwner?: (id: PeerIdString) => boolean;
}

const fail = (reason: ConstructorParameters<typeof InvalidSlotMapError>[0], message: string): never => {
  throw new InvalidSlotMapError(reason, message);
};

/** Checks and converts a wire map (untrusted input); throws `InvalidSlotMapError`. */
export function fromWire(input: unknown, check: SlotMapCheck = {}): SlotMap {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail('malformed', 'not a map');
  const w = input as Partial<Record<keyof SlotMapWire, unknown>>;
  if (w.v !== SLOT_MAP_WIRE_VERSION) fail('malformed', `unknown version ${String(w.v)}`);
  if (!isNat(w.epoch)) fail('epoch', 'epoch must be a non-negative integer');
  if (!isNat(w.replicas) || w.replicas > slotMapReplicasMax)
    fail('malformed', `replicas must be 0..${slotMapReplicasMax}`);
  if (!Array.isArray(w.owners) || w.owners.length > slotMapOwnersMax)
    fail('tooLarge', `owners must be an array of at most ${slotMapOwnersMax}`);
  if (!Array.isArray(w.ranges) || w.ranges.length > slotMapRangesMax)
    fail('tooLarge', `ranges must be an array of at most ${slotMapRangesMax}`);
  const owners = w.owners as unknown[];
  for (const o of owners) {
    if (typeof o !== 'string' || o.length === 0 || o.length > ownerIdCharsMax)
      fail('malformed', 'owner ids must be 1..256 characters');
  }
  const ranges: SlotMapRange[] = [];
  for (const raw of w.ranges as unknown[]) {
    if (!Array.isArray(raw) || raw.length !== 4) fail('malformed', 'a range is [start, end, epoch, owners]');
    const [start, end, epoch, idx] = raw as unknown[];
    if (!isNat(start) || !isNat(end) || start > end || end >= SLOT_COUNT)
      fail('coverage', `bad range [${String(start)}, ${String(end)}]`);
    if (!Array.isArray(idx)) fail('malformed', 'range owners must be an array');
    const rangeOwners = (idx as unknown[]).map((i) => {
      if (!isNat(i) || i >= owners.length) fail('malformed', `owner index ${String(i)} out of table`);
      return owners[i as number] as string;
    });
    ranges.push({ start: start as number, end: end as number, epoch: epoch as number, owners: rangeOwners });
  }
  const map = validateSlotMap({ epoch: w.epoch as number, replicas: w.replicas as number, ranges }, check);
  // The table is the set of owners: one listed but never used would hide a range short of owners.
  if (new Set(owners).size !== owners.length || mapOwners(map).length !== owners.length)
    fail('ownerCount', 'the owner table must list each owner of the map exactly once');
  return map;
}

/**
 * Checks every invariant of a map: coverage of 0..16383 exactly once in
 * sorted ranges, distinct owners, min(N, owners) owners per range, range
 * epochs in 1..map epoch, and (optionally) known owners. Returns the map.
 */
export function validateSlotMap(map: SlotMap, check: SlotMapCheck = {}): SlotMap {
  if (!isNat(map.epoch)) fail('epoch', 'epoch must be a non-negative integer');
  if (map.epoch === 0) {
    if (map.ranges.length !== 0) fail('epoch', 'a map at epoch 0 has no ranges');
    return map;
  }
  if (!isNat(map.replicas) || map.replicas < 1 || map.replicas > slotMapReplicasMax)
    fail('malformed', `replicas must be 1..${slotMapReplicasMax}`);
  if (map.ranges.length > slotMapRangesMax) fail('tooLarge', `more than ${slotMapRangesMax} ranges`);
  if (!coversAllSlotsOnce(map.ranges)) fail('coverage', 'ranges must cover 0..16383 exactly once');
  let next = 0;
  const distinct = new Set<PeerIdString>();
  for (const r of map.ranges) {
    if (r.start !== next) fail('coverage', 'ranges must be sorted by start');
    next = r.end + 1;
    if (!isNat(r.epoch) || r.epoch < 1 || r.epoch > map.epoch)
      fail('epoch', `range epoch ${String(r.epoch)} not in 1..${map.epoch}`);
    if (new Set(r.owners).size !== r.owners.length)
      fail('duplicateOwner', `range ${r.start}..${r.end} names an owner twice`);
    for (const o of r.owners) distinct.add(o);
  }
  if (distinct.size > slotMapOwnersMax) fail('tooLarge', `more than ${slotMapOwnersMax} owners`);
  const perRange = Math.min(map.replicas, distinct.size);
  for (const r of map.ranges) {
    if (r.owners.length !== perRange)
      fail('ownerCount', `range ${r.start}..${r.end} has ${r.owners.length} owners, expected ${perRange}`);
  }
  if (check.isKnownOwner) {
    for (const o of distinct)
      if (!check.isKnownOwner(o)) fail('unknownOwner', `owner ${o} is not a known owner`);
  }
  return map;
}

/** CBOR bytes of a map's wire form. */
export const encodeSlotMap = (map: SlotMap): Uint8Array => encodeValue(toWire(map));

/** Decodes and checks map bytes; throws `InvalidSlotMapError` (also for bytes that are not CBOR). */
export function decodeSlotMap(bytes: Uint8Array, check: SlotMapCheck = {}): SlotMap {
  let value: unknown;
  try {
    value = decodeValue(bytes);
  } catch (error) {
    throw new InvalidSlotMapError('malformed', `not CBOR: ${String(error)}`);
  }
  return fromWire(value, check);
}

/** Index of the range holding `slot` (binary search). */
export function rangeIndexOf(map: SlotMap, slot: number): number {
  let lo = 0;
  let hi = map.ranges.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = map.ranges[mid]!;
    if (slot < r.start) hi = mid - 1;
    else if (slot > r.end) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** The range holding `slot`, or undefined for the empty map. */
export function rangeOf(map: SlotMap, slot: number): SlotMapRange | undefined {
  const i = rangeIndexOf(map, slot);
  return i < 0 ? undefined : map.ranges[i];
}

/** Slot-replicas (slots held, any position) per owner. */
export function ownerLoads(map: SlotMap): Map<PeerIdString, number> {
  const loads = new Map<PeerIdString, number>();
  for (const r of map.ranges) {
    const size = r.end - r.start + 1;
    for (const o of r.owners) loads.set(o, (loads.get(o) ?? 0) + size);
  }
  return loads;
}

/** Slots per owner where it is primary. */
export function primaryLoads(map: SlotMap): Map<PeerIdString, number> {
  const loads = new Map<PeerIdString, number>();
  for (const r of map.ranges) {
    const p = r.owners[0];
    if (p !== undefined) loads.set(p, (loads.get(p) ?? 0) + r.end - r.start + 1);
  }
  return loads;
}

/** Slot-replicas in `next` that `prev` did not have (data that must be copied). */
export function movedSlotReplicas(prev: SlotMap, next: SlotMap): number {
  let moved = 0;
  forEachSlotPair(prev, next, (a, b, count) => {
    for (const o of b) if (!a.includes(o)) moved += count;
  });
  return moved;
}

/** True when both maps give every slot the same owners in the same order. */
export function sameAssignment(a: SlotMap, b: SlotMap): boolean {
  let same = a.replicas === b.replicas;
  forEachSlotPair(a, b, (x, y) => {
    if (x.length !== y.length || x.some((o, i) => o !== y[i])) same = false;
  });
  return same;
}

/** The slots whose owner list (set or order) differs between the maps, as ranges. */
export function changedRanges(prev: SlotMap, next: SlotMap): SlotRange[] {
  const out: SlotRange[] = [];
  forEachSlotPair(prev, next, (a, b, _count, start, end) => {
    if (a.length === b.length && a.every((o, i) => o === b[i])) return;
    const last = out[out.length - 1];
    if (last && last.end + 1 === start) out[out.length - 1] = { start: last.start, end };
    else out.push({ start, end });
  });
  return out;
}

/** Visits the runs of slots over which both maps' owner lists stay the same. */
function forEachSlotPair(
  a: SlotMap,
  b: SlotMap,
  visit: (
    x: readonly PeerIdString[],
    y: readonly PeerIdString[],
    count: number,
    start: number,
    end: number,
  ) => void,
): void {
  let i = 0;
  let j = 0;
  let slot = 0;
  while (slot < SLOT_COUNT) {
    const ra = a.ranges[i];
    const rb = b.ranges[j];
    const endA = ra ? ra.end : SLOT_COUNT - 1;
    const endB = rb ? rb.end : SLOT_COUNT - 1;
    const end = Math.min(endA, endB);
    visit(ra?.owners ?? [], rb?.owners ?? [], end - slot + 1, slot, end);
    slot = end + 1;
    if (ra && endA < slot) i++;
    if (rb && endB < slot) j++;
  }
}

/** Per-slot owner lists (index = slot). */
export function ownersBySlot(map: SlotMap): (readonly PeerIdString[])[] {
  const out: (readonly PeerIdString[])[] = new Array(SLOT_COUNT).fill([]);
  for (const r of map.ranges) for (let s = r.start; s <= r.end; s++) out[s] = r.owners;
  return out;
}
