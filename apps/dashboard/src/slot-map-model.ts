/**
 * What the slot map view draws, computed outside React: for each of the
 * 16384 slots, which owner colour it gets, whether it is under-replicated or
 * moving, and the range it belongs to. Built from the tab's peer's own slot
 * map (a `SlotMap` plus the in-flight change and the membership's liveness).
 */
import { changedRanges, type SlotMap, type SlotMapRange } from '@tessera/coordinator';
import { SLOT_COUNT } from '@tessera/core';

/** Palette entries, in the order owners are given colours (Okabe–Ito, then shades for more owners). */
export const OWNER_COLOURS = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#000000',
] as const;
/** Cell colour of a slot with no owner (before the first commit, or a gap a bad map would leave). */
export const UNOWNED_COLOUR = '#d0d0d0';

/** One owner in the legend. */
export interface OwnerEntry {
  readonly id: string;
  readonly colour: string;
  /** Owners past the palette share its colours; the pattern index tells them apart. */
  readonly hatch: number;
  /** Slots whose primary this owner is. */
  readonly primarySlots: number;
  readonly up: boolean;
}

/** A range as the view shows it on hover or selection. */
export interface RangeInfo {
  readonly index: number;
  readonly range: SlotMapRange;
  /** Owners the membership view has up. */
  readonly upOwners: number;
  readonly underReplicated: boolean;
  /** Owners in the change in flight when it moves this range's slots, else undefined. */
  readonly nextOwners: readonly string[] | undefined;
}

export interface SlotMapModel {
  readonly epoch: number;
  readonly replicas: number;
  readonly owners: readonly OwnerEntry[];
  /** Per slot: index into `owners` of its primary, or -1. */
  readonly primary: Int16Array;
  /** Per slot: index into the map's ranges, or -1. */
  readonly rangeIndex: Int32Array;
  /** Per slot: 1 when fewer owners are up than the replication factor asks for. */
  readonly underReplicated: Uint8Array;
  /** Per slot: 1 when a change in flight gives it other owners. */
  readonly moving: Uint8Array;
  readonly ranges: readonly RangeInfo[];
  /** Slots covered by some range (16384 for any committed map). */
  readonly covered: number;
  readonly underReplicatedSlots: number;
  readonly movingSlots: number;
  readonly pendingEpoch: number | undefined;
}

export interface SlotMapModelInput {
  readonly map: SlotMap;
  /** The map a change in flight would commit, if any. */
  readonly next: SlotMap | undefined;
  readonly isUp: (peer: string) => boolean;
}

/** Builds the per-slot arrays; linear in slots plus ranges. */
export function slotMapModel({ map, next, isUp }: SlotMapModelInput): SlotMapModel {
  const primary = new Int16Array(SLOT_COUNT).fill(-1);
  const rangeIndex = new Int32Array(SLOT_COUNT).fill(-1);
  const underReplicated = new Uint8Array(SLOT_COUNT);
  const moving = new Uint8Array(SLOT_COUNT);
  const primaryCount = new Map<string, number>();
  const allOwners = new Set<string>();
  for (const range of map.ranges) {
    for (const owner of range.owners) allOwners.add(owner);
    const first = range.owners[0];
    if (first !== undefined)
      primaryCount.set(first, (primaryCount.get(first) ?? 0) + range.end - range.start + 1);
  }
  // Colours by id order, so every tab gives an owner the same colour for the same map.
  const ids = [...allOwners].sort();
  const ownerIndex = new Map(ids.map((id, i) => [id, i]));
  const owners = ids.map((id, i) => ({
    id,
    colour: OWNER_COLOURS[i % OWNER_COLOURS.length] as string,
    hatch: Math.floor(i / OWNER_COLOURS.length),
    primarySlots: primaryCount.get(id) ?? 0,
    up: isUp(id),
  }));
  const upById = new Map(owners.map((o) => [o.id, o.up]));

  if (next !== undefined) {
    for (const changed of changedRanges(map, next))
      moving.fill(1, Math.max(0, changed.start), Math.min(SLOT_COUNT, changed.end + 1));
  }
  const nextRangeIndex = next === undefined ? undefined : indexBySlot(next);

  let covered = 0;
  let underReplicatedSlots = 0;
  let movingSlots = 0;
  const ranges: RangeInfo[] = map.ranges.map((range, index) => {
    const start = Math.max(0, range.start);
    const end = Math.min(SLOT_COUNT - 1, range.end);
    const upOwners = range.owners.filter((o) => upById.get(o) === true).length;
    const under = upOwners < map.replicas || range.owners.length === 0;
    const first = range.owners[0];
    const p = first === undefined ? -1 : (ownerIndex.get(first) ?? -1);
    for (let slot = start; slot <= end; slot++) {
      if (rangeIndex[slot] === -1) covered += 1;
      rangeIndex[slot] = index;
      primary[slot] = p;
      if (under) underReplicated[slot] = 1;
    }
    if (under) underReplicatedSlots += end - start + 1;
    let nextOwners: readonly string[] | undefined;
    if (next !== undefined && nextRangeIndex !== undefined) {
      for (let slot = start; slot <= end; slot++) {
        if (moving[slot] === 1) {
          nextOwners = next.ranges[nextRangeIndex[slot] as number]?.owners;
          break;
        }
      }
    }
    return { index, range, upOwners, underReplicated: under, nextOwners };
  });
  for (let slot = 0; slot < SLOT_COUNT; slot++) movingSlots += moving[slot] as number;
  return {
    epoch: map.epoch,
    replicas: map.replicas,
    owners,
    primary,
    rangeIndex,
    underReplicated,
    moving,
    ranges,
    covered,
    underReplicatedSlots,
    movingSlots,
    pendingEpoch: next?.epoch,
  };
}

function indexBySlot(map: SlotMap): Int32Array {
  const out = new Int32Array(SLOT_COUNT).fill(-1);
  map.ranges.forEach((range, index) => {
    out.fill(index, Math.max(0, range.start), Math.min(SLOT_COUNT, range.end + 1));
  });
  return out;
}
