import { encodeValue } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  decodeSlotMap,
  EMPTY_SLOT_MAP,
  encodeSlotMap,
  fromWire,
  rangeOf,
  slotMapKey,
  toWire,
  validateSlotMap,
} from './slot-map.ts';
import { assignSlots } from './slot-map-assign.ts';
import { InvalidSlotMapError } from './slot-map-errors.ts';

const map = assignSlots({
  current: EMPTY_SLOT_MAP,
  members: ['a', 'b', 'c', 'd'].map((id) => ({ id })),
  replicas: 2,
});
const wire = toWire(map);

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidSlotMapError);
    return (error as InvalidSlotMapError).reason;
  }
  throw new Error('expected InvalidSlotMapError');
}

describe('slot map wire form', () => {
  it('round-trips through CBOR and looks up slots', () => {
    expect(decodeSlotMap(encodeSlotMap(map))).toEqual(map);
    expect(wire.owners).toEqual(['a', 'b', 'c', 'd']);
    expect(rangeOf(map, 0)!.owners).toHaveLength(2);
    expect(rangeOf(map, 16383)!.end).toBe(16383);
    expect(rangeOf(EMPTY_SLOT_MAP, 5)).toBeUndefined();
  });

  it('is stored under S, slotmap, cluster', () => {
    expect(Buffer.from(slotMapKey('c')).toString('hex')).toBe('531102736c6f746d6170000263' + '00');
  });

  it('rejects bad maps from peers with a typed reason', () => {
    const first = wire.ranges[0]!;
    expect(reasonOf(() => decodeSlotMap(new Uint8Array([0xff])))).toBe('malformed');
    expect(reasonOf(() => fromWire('nope'))).toBe('malformed');
    expect(reasonOf(() => fromWire({ ...wire, v: 9 }))).toBe('malformed');
    expect(reasonOf(() => fromWire({ ...wire, ranges: wire.ranges.slice(1) }))).toBe('coverage');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16383, 1, [0, 1]], first] }))).toBe('coverage');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16384, 1, [0, 1]]] }))).toBe('coverage');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16383, 1, [0, 0]]] }))).toBe('duplicateOwner');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16383, 1, [0]]] }))).toBe('ownerCount');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16383, 1, [0, 9]]] }))).toBe('malformed');
    expect(reasonOf(() => fromWire({ ...wire, ranges: [[0, 16383, 7, [0, 1]]] }))).toBe('epoch');
    expect(reasonOf(() => fromWire({ ...wire, epoch: 0 }))).toBe('epoch');
    expect(reasonOf(() => fromWire(wire, { isKnownOwner: (id) => id !== 'c' }))).toBe('unknownOwner');
    const tooMany = Array.from({ length: 4097 }, (_, i) => [i, i, 1, [0, 1]]);
    expect(reasonOf(() => fromWire({ ...wire, ranges: tooMany }))).toBe('tooLarge');
    expect(reasonOf(() => decodeSlotMap(encodeValue({ ...wire, replicas: 99 })))).toBe('malformed');
  });

  it('accepts the empty map only at epoch 0', () => {
    expect(validateSlotMap(EMPTY_SLOT_MAP)).toBe(EMPTY_SLOT_MAP);
    expect(reasonOf(() => validateSlotMap({ epoch: 0, replicas: 1, ranges: map.ranges }))).toBe('epoch');
  });
});
