import { assignSlots, EMPTY_SLOT_MAP, type SlotMap } from '@tessera/coordinator';
import { SLOT_COUNT } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { slotMapModel } from './slot-map-model.ts';

const ids = ['peer-a', 'peer-b', 'peer-c', 'peer-d'];
const assign = (members: readonly string[], current: SlotMap = EMPTY_SLOT_MAP, replicas = 3) =>
  assignSlots({ current, members: members.map((id) => ({ id, capacitySlots: SLOT_COUNT })), replicas });

describe('slotMapModel', () => {
  it('covers every slot once and colours each by the primary of its range', () => {
    const map = { ...assign(ids), epoch: 1 };
    const model = slotMapModel({ map, next: undefined, isUp: () => true });
    expect(model.covered).toBe(SLOT_COUNT);
    expect(model.underReplicatedSlots).toBe(0);
    expect(model.movingSlots).toBe(0);
    expect(model.owners.map((o) => o.id)).toEqual([...ids].sort());
    expect(model.owners.reduce((sum, o) => sum + o.primarySlots, 0)).toBe(SLOT_COUNT);
    for (const range of map.ranges) {
      for (const slot of [range.start, range.end]) {
        expect(model.owners[model.primary[slot] as number]?.id).toBe(range.owners[0]);
        expect(map.ranges[model.rangeIndex[slot] as number]).toBe(range);
      }
    }
  });

  it('marks the ranges a down owner holds as under-replicated, and only those', () => {
    const map = { ...assign(ids), epoch: 1 };
    const model = slotMapModel({ map, next: undefined, isUp: (id) => id !== 'peer-b' });
    let expected = 0;
    for (const range of map.ranges) {
      const held = range.owners.includes('peer-b');
      if (held) expected += range.end - range.start + 1;
      expect(model.underReplicated[range.start]).toBe(held ? 1 : 0);
      expect(model.ranges[model.rangeIndex[range.start] as number]?.upOwners).toBe(held ? 2 : 3);
    }
    expect(expected).toBeGreaterThan(0);
    expect(model.underReplicatedSlots).toBe(expected);
    expect(model.owners.find((o) => o.id === 'peer-b')?.up).toBe(false);
  });

  it('marks the slots a change in flight moves, with their next owners', () => {
    const current = { ...assign(ids.slice(0, 3)), epoch: 1 };
    const next = { ...assign(ids, current), epoch: 2 };
    const model = slotMapModel({ map: current, next, isUp: () => true });
    expect(model.pendingEpoch).toBe(2);
    expect(model.movingSlots).toBeGreaterThan(0);
    expect(model.movingSlots).toBeLessThan(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot += 97) {
      const before = current.ranges.find((r) => r.start <= slot && slot <= r.end)?.owners;
      const after = next.ranges.find((r) => r.start <= slot && slot <= r.end)?.owners;
      expect(model.moving[slot]).toBe(JSON.stringify(before) === JSON.stringify(after) ? 0 : 1);
    }
    const moved = model.ranges.filter((r) => r.nextOwners !== undefined);
    expect(moved.some((r) => r.nextOwners?.includes('peer-d'))).toBe(true);
    for (const r of moved) expect(r.nextOwners).not.toEqual(r.range.owners);
  });

  it('draws nothing as covered before the first commit', () => {
    const model = slotMapModel({ map: EMPTY_SLOT_MAP, next: undefined, isUp: () => true });
    expect(model.covered).toBe(0);
    expect(model.epoch).toBe(0);
    expect(model.primary.every((p) => p === -1)).toBe(true);
  });
});
