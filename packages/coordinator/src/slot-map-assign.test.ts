import { SLOT_COUNT } from '@tessera/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  EMPTY_SLOT_MAP,
  mapOwners,
  movedSlotReplicas,
  ownerLoads,
  ownersBySlot,
  type SlotMap,
  sameAssignment,
  validateSlotMap,
} from './slot-map.ts';
import {
  type AssignMember,
  type AssignStats,
  assignSlots,
  capacityFromQuota,
  distribute,
} from './slot-map-assign.ts';
import { SlotMapCapacityError } from './slot-map-errors.ts';

const ids = (n: number, prefix = 'm') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }));
const newStats = (): AssignStats => ({ moved: 0, movedMin: 0, fallbacks: 0 });

/** Each owner's slot-replicas within 10% of an even share. */
function expectBalanced(map: SlotMap, members: readonly AssignMember[], replicas: number): void {
  const n = Math.min(replicas, members.length);
  const even = (SLOT_COUNT * n) / members.length;
  const loads = ownerLoads(map);
  for (const m of members) {
    const load = loads.get(m.id) ?? 0;
    expect(Math.abs(load - even), `${m.id} holds ${load}, even ${even}`).toBeLessThanOrEqual(0.1 * even);
  }
  expect(mapOwners(map).sort()).toEqual(members.map((m) => m.id).sort());
}

/** Owners of each slot in `next` that it did not have in `prev`, as `slot:owner`. */
function gained(prev: SlotMap, next: SlotMap): Map<string, number> {
  const before = ownersBySlot(prev);
  const after = ownersBySlot(next);
  const byOwner = new Map<string, number>();
  for (let s = 0; s < SLOT_COUNT; s++) {
    for (const o of after[s]!) if (!before[s]!.includes(o)) byOwner.set(o, (byOwner.get(o) ?? 0) + 1);
  }
  return byOwner;
}

describe('distribute', () => {
  it('splits evenly, gives the remainder by preference, and respects caps', () => {
    expect(distribute(10, [99, 99, 99], [2, 0, 1])).toEqual([3, 3, 4]);
    expect(distribute(10, [1, 99, 99], [0, 1, 2])).toEqual([1, 5, 4]);
    expect(() => distribute(10, [1, 2, 3], [0, 1, 2])).toThrow(SlotMapCapacityError);
  });
});

describe('assignSlots', () => {
  it('forms a balanced, valid map from nothing for 1..20 owners and N = 1..3', () => {
    for (let k = 1; k <= 20; k++) {
      for (const replicas of [1, 2, 3]) {
        const members = ids(k);
        const stats = newStats();
        const map = assignSlots({ current: EMPTY_SLOT_MAP, members, replicas }, stats);
        validateSlotMap(map);
        expect(map.epoch).toBe(1);
        expectBalanced(map, members, replicas);
        expect(stats.moved).toBe(SLOT_COUNT * Math.min(replicas, k));
        expect(map.ranges.length).toBeLessThan(4 * k * replicas + 4);
        // A fresh map is already where the next run would put it.
        expect(sameAssignment(assignSlots({ current: map, members, replicas }), map)).toBe(true);
      }
    }
  });

  it('join and leave sequences keep coverage, balance, minimal movement, determinism and a fixpoint', () => {
    const op = fc.oneof(
      fc.constant({ kind: 'join' as const }),
      fc.record({ kind: fc.constant('leave' as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(op, { maxLength: 4 }),
        (start, replicas, ops) => {
          let members = ids(start);
          let next = start;
          let map = assignSlots({ current: EMPTY_SLOT_MAP, members, replicas });
          for (const o of ops) {
            const prev = map;
            let leaver: string | null = null;
            let joiner: string | null = null;
            if (o.kind === 'join' || members.length === 1) {
              joiner = `m${next++}`;
              members = [...members, { id: joiner }];
            } else {
              leaver = members[o.pick % members.length]!.id;
              members = members.filter((m) => m.id !== leaver);
            }
            const stats = newStats();
            map = assignSlots({ current: prev, members, replicas }, stats);
            validateSlotMap(map);
            expect(map.epoch).toBe(prev.epoch + 1);
            expectBalanced(map, members, replicas);
            // Movement: counted independently, equal to the algorithm's count and to the lower bound.
            expect(movedSlotReplicas(prev, map)).toBe(stats.moved);
            expect(stats.moved).toBe(stats.movedMin);
            const gains = gained(prev, map);
            if (joiner !== null && members.length - 1 >= replicas) {
              // A join into a full cluster: only the joiner gains, and exactly its share.
              expect([...gains.keys()]).toEqual([joiner]);
              expect(stats.movedMin).toBe(ownerLoads(map).get(joiner));
            }
            if (leaver !== null) {
              // A leave: only slots the leaver held gain an owner.
              const before = ownersBySlot(prev);
              const after = ownersBySlot(map);
              for (let s = 0; s < SLOT_COUNT; s++) {
                const gainedHere = after[s]!.some((x) => !before[s]!.includes(x));
                if (gainedHere && stats.fallbacks === 0) expect(before[s]!.includes(leaver)).toBe(true);
              }
            }
            // Determinism: member order does not matter.
            const shuffled = [...members].reverse();
            expect(assignSlots({ current: prev, members: shuffled, replicas })).toEqual(map);
            // Fixpoint: nothing changed, nothing moves.
            const again = newStats();
            expect(sameAssignment(assignSlots({ current: map, members, replicas }, again), map)).toBe(true);
            expect(again.moved).toBe(0);
          }
        },
      ),
      { numRuns: 10 },
    );
  });

  it('failover refills the down owner places; survivors lose a place only for the unmatched remainder', () => {
    const members = ids(5);
    const map = assignSlots({ current: EMPTY_SLOT_MAP, members, replicas: 3 });
    const down = 'm2';
    const stats = newStats();
    const after = assignSlots(
      { current: map, members: members.filter((m) => m.id !== down), replicas: 3 },
      stats,
    );
    const before = ownersBySlot(map);
    const now = ownersBySlot(after);
    let refilled = 0;
    let survivorsLost = 0;
    for (let s = 0; s < SLOT_COUNT; s++) {
      expect(now[s]).not.toContain(down);
      for (const o of before[s]!) if (o !== down && !now[s]!.includes(o)) survivorsLost += 1;
      if (before[s]!.includes(down)) refilled += 1;
    }
    // Each place a survivor gives up is one extra move beyond refilling, and the bound counts it.
    expect(stats.moved).toBe(refilled + survivorsLost);
    expect(stats.moved).toBe(stats.movedMin);
  });

  it('gives an owner with a small quota at most its capacity and splits the rest evenly', () => {
    const members: AssignMember[] = [...ids(4), { id: 'browser', capacitySlots: 1000 }];
    const map = assignSlots({ current: EMPTY_SLOT_MAP, members, replicas: 2 });
    validateSlotMap(map);
    const loads = ownerLoads(map);
    expect(loads.get('browser')).toBe(1000);
    const rest = (2 * SLOT_COUNT - 1000) / 4;
    for (let i = 0; i < 4; i++) expect(Math.abs(loads.get(`m${i}`)! - rest)).toBeLessThanOrEqual(1);
    // Shrinking the quota later moves only what it must.
    const stats = newStats();
    const smaller = assignSlots(
      { current: map, members: [...ids(4), { id: 'browser', capacitySlots: 500 }], replicas: 2 },
      stats,
    );
    expect(ownerLoads(smaller).get('browser')).toBe(500);
    expect(stats.moved).toBe(500);
  });

  it('refuses assignments that cannot be made', () => {
    expect(() => assignSlots({ current: EMPTY_SLOT_MAP, members: [], replicas: 3 })).toThrow(
      SlotMapCapacityError,
    );
    expect(() =>
      assignSlots({ current: EMPTY_SLOT_MAP, members: [{ id: 'a', capacitySlots: 100 }], replicas: 1 }),
    ).toThrow(SlotMapCapacityError);
    expect(() => assignSlots({ current: EMPTY_SLOT_MAP, members: ids(3), replicas: 0 })).toThrow(
      SlotMapCapacityError,
    );
  });

  it('turns a quota into a capacity by the documented rule', () => {
    expect(capacityFromQuota(null)).toBe(Number.POSITIVE_INFINITY);
    // 1 GiB × 0.5 / 64 KiB = 8192 slot-replicas, a multiple of 64.
    expect(capacityFromQuota(1024 ** 3)).toBe(8192);
    expect(capacityFromQuota(1024 ** 3 + 3 * 64 * 1024)).toBe(8192);
    expect(capacityFromQuota(0)).toBe(0);
  });
});
