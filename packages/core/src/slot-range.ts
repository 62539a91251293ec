/**
 * Slot ranges: inclusive `[start, end]` runs of slots, the unit the slot map
 * assigns to owners. Functions here never mutate their inputs; results are
 * new, normalized arrays (sorted by start, no overlaps, no adjacent runs).
 */
import { InvalidArgumentError } from './errors.ts';
import { SLOT_COUNT, SLOT_MAX } from './slot.ts';

/** An inclusive run of slots: `start <= end`, both in 0..16383. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
}

/** The whole keyspace, 0..16383. */
export const ALL_SLOTS: SlotRange = Object.freeze({ start: 0, end: SLOT_MAX });

function isSlotNumber(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= SLOT_MAX;
}

/** True when `r` is a well-formed range (use on data from another peer before trusting it). */
export function isSlotRange(r: unknown): r is SlotRange {
  if (typeof r !== 'object' || r === null) return false;
  const { start, end } = r as { start?: unknown; end?: unknown };
  return isSlotNumber(start) && isSlotNumber(end) && start <= end;
}

/** Throws InvalidArgumentError unless `r` is a well-formed range. */
export function assertSlotRange(r: unknown): asserts r is SlotRange {
  if (!isSlotRange(r)) {
    throw new InvalidArgumentError(
      `not a slot range (integers 0..${SLOT_MAX}, start <= end): ${describe(r)}`,
    );
  }
}

/** A validated range `[start, end]`; `slotRange(5)` is the single slot 5. */
export function slotRange(start: number, end: number = start): SlotRange {
  const r = { start, end };
  assertSlotRange(r);
  return r;
}

/** Number of slots in the range. */
export function rangeSize(r: SlotRange): number {
  return r.end - r.start + 1;
}

/** True when `slot` lies in `r`. */
export function rangeContains(r: SlotRange, slot: number): boolean {
  return slot >= r.start && slot <= r.end;
}

/** `a` before `b` by start, then end; for sorting. */
export function compareRanges(a: SlotRange, b: SlotRange): number {
  return a.start - b.start || a.end - b.end;
}

function checkAll(ranges: readonly SlotRange[]): void {
  if (!Array.isArray(ranges)) throw new InvalidArgumentError('expected an array of slot ranges');
  for (const r of ranges) assertSlotRange(r);
}

/**
 * Sort, then merge overlapping and adjacent ranges: the canonical form of a
 * set of slots. `[{0,5},{3,9},{10,10}]` -> `[{0,10}]`.
 */
export function normalizeRanges(ranges: readonly SlotRange[]): SlotRange[] {
  checkAll(ranges);
  const sorted = [...ranges].sort(compareRanges);
  const out: SlotRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1) {
      if (r.end > last.end) out[out.length - 1] = { start: last.start, end: r.end };
    } else {
      out.push({ start: r.start, end: r.end });
    }
  }
  return out;
}

/** Union of two lists of ranges, normalized. */
export function mergeRanges(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  return normalizeRanges([...a, ...b]);
}

/** Slots in `a` and in `b`, normalized. */
export function intersectRanges(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  const x = normalizeRanges(a);
  const y = normalizeRanges(b);
  const out: SlotRange[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length && j < y.length) {
    const p = x[i]!;
    const q = y[j]!;
    const start = Math.max(p.start, q.start);
    const end = Math.min(p.end, q.end);
    if (start <= end) out.push({ start, end });
    if (p.end < q.end) i++;
    else j++;
  }
  return out;
}

/** Slots in `a` but not in `b`, normalized. */
export function subtractRanges(a: readonly SlotRange[], b: readonly SlotRange[]): SlotRange[] {
  const cut = normalizeRanges(b);
  const out: SlotRange[] = [];
  for (const r of normalizeRanges(a)) {
    let start = r.start;
    for (const c of cut) {
      if (c.end < start) continue;
      if (c.start > r.end) break;
      if (c.start > start) out.push({ start, end: c.start - 1 });
      start = c.end + 1;
      if (start > r.end) break;
    }
    if (start <= r.end) out.push({ start, end: r.end });
  }
  return out;
}

/** The slots not in `ranges`, normalized. */
export function complementRanges(ranges: readonly SlotRange[]): SlotRange[] {
  return subtractRanges([ALL_SLOTS], ranges);
}

/** Total number of distinct slots in `ranges`. */
export function countSlots(ranges: readonly SlotRange[]): number {
  let n = 0;
  for (const r of normalizeRanges(ranges)) n += rangeSize(r);
  return n;
}

/** True when `slot` is in a normalized list (binary search; normalize first if unsure). */
export function normalizedRangesContain(normalized: readonly SlotRange[], slot: number): boolean {
  let lo = 0;
  let hi = normalized.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = normalized[mid]!;
    if (slot < r.start) hi = mid - 1;
    else if (slot > r.end) lo = mid + 1;
    else return true;
  }
  return false;
}

/**
 * Split `range` into `n` contiguous ranges whose sizes differ by at most one
 * (the first `size % n` get the extra slot). `n` must be 1..rangeSize(range).
 */
export function splitRange(range: SlotRange, n: number): SlotRange[] {
  assertSlotRange(range);
  const size = rangeSize(range);
  if (!Number.isInteger(n) || n < 1 || n > size) {
    throw new InvalidArgumentError(`cannot split ${size} slots into ${n} non-empty ranges`);
  }
  const base = Math.floor(size / n);
  const extra = size % n;
  const out: SlotRange[] = [];
  let start = range.start;
  for (let k = 0; k < n; k++) {
    const end = start + base + (k < extra ? 1 : 0) - 1;
    out.push({ start, end });
    start = end + 1;
  }
  return out;
}

/** Split 0..16383 into `n` balanced contiguous ranges (`n` in 1..16384). `splitSlots(3)` -> 0..5461, 5462..10922, 10923..16383. */
export function splitSlots(n: number): SlotRange[] {
  return splitRange(ALL_SLOTS, n);
}

/** What a list of ranges leaves uncovered and covers more than once. */
export interface SlotCoverage {
  /** Slots no range covers, normalized. */
  gaps: SlotRange[];
  /** Slots two or more ranges cover, normalized. */
  overlaps: SlotRange[];
}

/** Gaps and overlaps of `ranges` over the whole keyspace (sweep over sorted ranges). */
export function slotCoverage(ranges: readonly SlotRange[]): SlotCoverage {
  checkAll(ranges);
  const sorted = [...ranges].sort(compareRanges);
  const overlaps: SlotRange[] = [];
  // `reach` is the highest slot covered so far by any earlier range.
  let reach = -1;
  for (const r of sorted) {
    if (r.start <= reach) overlaps.push({ start: r.start, end: Math.min(r.end, reach) });
    if (r.end > reach) reach = r.end;
  }
  return { gaps: complementRanges(sorted), overlaps: normalizeRanges(overlaps) };
}

/** True when `ranges` cover each of the 16384 slots exactly once. */
export function coversAllSlotsOnce(ranges: readonly SlotRange[]): boolean {
  const { gaps, overlaps } = slotCoverage(ranges);
  return gaps.length === 0 && overlaps.length === 0;
}

/**
 * A compact mutable set of slots: a 2 KiB bitmap (one bit per slot), for
 * per-slot bookkeeping where range lists would churn.
 */
export class SlotSet {
  readonly #bits = new Uint32Array(SLOT_COUNT / 32);
  #size = 0;

  /** A set holding every slot in `ranges`. */
  static fromRanges(ranges: readonly SlotRange[]): SlotSet {
    const s = new SlotSet();
    for (const r of normalizeRanges(ranges)) s.addRange(r);
    return s;
  }

  /** Number of slots in the set. */
  get size(): number {
    return this.#size;
  }

  has(slot: number): boolean {
    if (!isSlotNumber(slot)) return false;
    return (this.#bits[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  /** Adds `slot`; returns true if it was not there. */
  add(slot: number): boolean {
    checkSlot(slot);
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    if ((this.#bits[word]! & bit) !== 0) return false;
    this.#bits[word]! |= bit;
    this.#size++;
    return true;
  }

  /** Removes `slot`; returns true if it was there. */
  delete(slot: number): boolean {
    checkSlot(slot);
    const word = slot >>> 5;
    const bit = 1 << (slot & 31);
    if ((this.#bits[word]! & bit) === 0) return false;
    this.#bits[word]! &= ~bit;
    this.#size--;
    return true;
  }

  addRange(r: SlotRange): void {
    assertSlotRange(r);
    for (let s = r.start; s <= r.end; s++) this.add(s);
  }

  deleteRange(r: SlotRange): void {
    assertSlotRange(r);
    for (let s = r.start; s <= r.end; s++) this.delete(s);
  }

  /** The set as normalized ranges. */
  toRanges(): SlotRange[] {
    const out: SlotRange[] = [];
    let start = -1;
    for (let s = 0; s <= SLOT_COUNT; s++) {
      const inSet = s < SLOT_COUNT && (this.#bits[s >>> 5]! & (1 << (s & 31))) !== 0;
      if (inSet && start < 0) start = s;
      else if (!inSet && start >= 0) {
        out.push({ start, end: s - 1 });
        start = -1;
      }
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (let s = 0; s < SLOT_COUNT; s++) if (this.has(s)) yield s;
  }
}

function checkSlot(slot: number): void {
  if (!isSlotNumber(slot))
    throw new InvalidArgumentError(`not a slot (integer 0..${SLOT_MAX}): ${describe(slot)}`);
}

function describe(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
