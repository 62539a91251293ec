import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.ts';
import { SLOT_COUNT } from './slot.ts';
import {
  ALL_SLOTS,
  complementRanges,
  countSlots,
  coversAllSlotsOnce,
  intersectRanges,
  isSlotRange,
  mergeRanges,
  normalizedRangesContain,
  normalizeRanges,
  rangeSize,
  type SlotRange,
  SlotSet,
  slotCoverage,
  slotRange,
  splitRange,
  splitSlots,
  subtractRanges,
} from './slot-range.ts';

// Ranges either anywhere or crowded near slot 0 / slot 16383, so overlaps,
// adjacency and the keyspace edges all come up.
const bound = fc.oneof(
  fc.integer({ min: 0, max: 16383 }),
  fc.integer({ min: 0, max: 40 }),
  fc.integer({ min: 16343, max: 16383 }),
);
const range = fc
  .tuple(bound, bound)
  .map(([a, b]): SlotRange => ({ start: Math.min(a, b), end: Math.max(a, b) }));
const ranges = fc.array(range, { maxLength: 8 });

/** Model: how many ranges cover each slot. */
function counts(rs: readonly SlotRange[]): Uint8Array {
  const c = new Uint8Array(SLOT_COUNT);
  for (const r of rs) for (let s = r.start; s <= r.end; s++) c[s]!++;
  return c;
}
function toSet(rs: readonly SlotRange[]): boolean[] {
  return Array.from(counts(rs), (n) => n > 0);
}
function isNormalized(rs: readonly SlotRange[]): boolean {
  return rs.every((r, i) => isSlotRange(r) && (i === 0 || r.start > rs[i - 1]!.end + 1));
}
/** Model: runs of true in a per-slot boolean array. */
function fromSet(set: readonly boolean[]): SlotRange[] {
  const out: SlotRange[] = [];
  for (let s = 0; s < set.length; s++) {
    if (!set[s]) continue;
    let e = s;
    while (e + 1 < set.length && set[e + 1]) e++;
    out.push({ start: s, end: e });
    s = e;
  }
  return out;
}

describe('slotRange', () => {
  it('validates', () => {
    expect(slotRange(3)).toEqual({ start: 3, end: 3 });
    expect(slotRange(0, 16383)).toEqual(ALL_SLOTS);
    for (const [a, b] of [
      [5, 4],
      [-1, 3],
      [0, 16384],
      [0.5, 3],
      [Number.NaN, 1],
    ]) {
      expect(() => slotRange(a!, b)).toThrow(InvalidArgumentError);
    }
    expect(isSlotRange({ start: '1', end: 2 })).toBe(false);
    expect(isSlotRange(null)).toBe(false);
    expect(() => normalizeRanges([{ start: 2, end: 1 }])).toThrow(InvalidArgumentError);
  });
});

describe('normalize, merge, intersect, subtract', () => {
  it('normalize example', () => {
    expect(
      normalizeRanges([
        { start: 10, end: 10 },
        { start: 3, end: 9 },
        { start: 0, end: 5 },
        { start: 20, end: 30 },
      ]),
    ).toEqual([
      { start: 0, end: 10 },
      { start: 20, end: 30 },
    ]);
  });

  it('normalize keeps the same slots and yields the canonical form', () => {
    fc.assert(
      fc.property(ranges, (rs) => {
        const n = normalizeRanges(rs);
        expect(isNormalized(n)).toBe(true);
        expect(n).toEqual(fromSet(toSet(rs)));
        expect(normalizeRanges(n)).toEqual(n);
      }),
      { numRuns: 200 },
    );
  });

  it('set operations agree with a per-slot model', () => {
    fc.assert(
      fc.property(ranges, ranges, (a, b) => {
        const sa = toSet(a);
        const sb = toSet(b);
        expect(mergeRanges(a, b)).toEqual(fromSet(sa.map((v, i) => v || sb[i]!)));
        expect(intersectRanges(a, b)).toEqual(fromSet(sa.map((v, i) => v && sb[i]!)));
        expect(subtractRanges(a, b)).toEqual(fromSet(sa.map((v, i) => v && !sb[i]!)));
        expect(complementRanges(a)).toEqual(fromSet(sa.map((v) => !v)));
        expect(countSlots(a)).toBe(sa.filter(Boolean).length);
      }),
      { numRuns: 100 },
    );
  });

  it('contains agrees with the model', () => {
    fc.assert(
      fc.property(ranges, fc.integer({ min: 0, max: 16383 }), (rs, slot) => {
        expect(normalizedRangesContain(normalizeRanges(rs), slot)).toBe(toSet(rs)[slot]);
      }),
    );
  });
});

describe('split', () => {
  it('splitSlots(3) example', () => {
    expect(splitSlots(3)).toEqual([
      { start: 0, end: 5461 },
      { start: 5462, end: 10922 },
      { start: 10923, end: 16383 },
    ]);
    expect(splitSlots(1)).toEqual([ALL_SLOTS]);
    expect(splitSlots(16384)).toHaveLength(16384);
  });

  it('splitSlots(n) is contiguous, balanced and covers every slot once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16384 }), (n) => {
        const parts = splitSlots(n);
        expect(parts).toHaveLength(n);
        expect(coversAllSlotsOnce(parts)).toBe(true);
        const contiguous = parts.every((p, i) => i === 0 || p.start === parts[i - 1]!.end + 1);
        expect(contiguous).toBe(true);
        const sizes = parts.map(rangeSize);
        expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
      { numRuns: 50 },
    );
  });

  it('splitRange rejects impossible splits', () => {
    expect(() => splitRange({ start: 0, end: 3 }, 5)).toThrow(InvalidArgumentError);
    expect(() => splitSlots(0)).toThrow(InvalidArgumentError);
    expect(() => splitSlots(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('coverage', () => {
  it('reports gaps and overlaps exactly', () => {
    fc.assert(
      fc.property(ranges, (rs) => {
        const c = counts(rs);
        const { gaps, overlaps } = slotCoverage(rs);
        expect(gaps).toEqual(fromSet(Array.from(c, (n) => n === 0)));
        expect(overlaps).toEqual(fromSet(Array.from(c, (n) => n > 1)));
        expect(coversAllSlotsOnce(rs)).toBe(c.every((n) => n === 1));
      }),
      { numRuns: 100 },
    );
  });

  it('a split with one range removed or duplicated is not exact', () => {
    const parts = splitSlots(5);
    expect(coversAllSlotsOnce(parts)).toBe(true);
    expect(slotCoverage(parts.slice(1)).gaps).toEqual([parts[0]]);
    expect(slotCoverage([...parts, parts[2]!]).overlaps).toEqual([parts[2]]);
    expect(coversAllSlotsOnce([...parts.slice(0, 4), { start: parts[4]!.start, end: 16382 }])).toBe(false);
  });
});

describe('SlotSet', () => {
  it('round-trips ranges and tracks size', () => {
    fc.assert(
      fc.property(ranges, ranges, (a, b) => {
        const s = SlotSet.fromRanges(a);
        expect(s.toRanges()).toEqual(normalizeRanges(a));
        expect(s.size).toBe(countSlots(a));
        for (const r of b) s.deleteRange(r);
        expect(s.toRanges()).toEqual(subtractRanges(a, b));
        expect(s.size).toBe(countSlots(subtractRanges(a, b)));
      }),
      { numRuns: 100 },
    );
  });

  it('add/delete/has', () => {
    const s = new SlotSet();
    expect(s.add(16383)).toBe(true);
    expect(s.add(16383)).toBe(false);
    expect(s.has(16383)).toBe(true);
    expect(s.has(16384)).toBe(false);
    expect([...s]).toEqual([16383]);
    expect(s.delete(16383)).toBe(true);
    expect(s.delete(16383)).toBe(false);
    expect(s.size).toBe(0);
    expect(() => s.add(-1)).toThrow(InvalidArgumentError);
    expect(() => s.add(16384)).toThrow(InvalidArgumentError);
  });
});
