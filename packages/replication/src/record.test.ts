import { decodeValue, encodeValue, joinContext, type VersionVector } from '@tessera/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BadFrameError } from './errors.ts';
import { siblingsMax } from './limits.ts';
import {
  isTombstoneOnly,
  losersOf,
  maxClock,
  merge,
  mint,
  type ReplicaRecord,
  versionHash,
  winnerOf,
} from './record.ts';
import { recordFromWire, recordToWire } from './record-codec.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const same = (a: ReplicaRecord | undefined, b: ReplicaRecord | undefined) =>
  expect(a && versionHash(a)).toEqual(b && versionHash(b));

/** Mints on `local` the way a replica does: its Lamport clock first receives everything the record shows. */
function mintAt(
  clock: { value: number },
  local: ReplicaRecord | undefined,
  actor: string,
  text: string | null,
  context?: VersionVector,
) {
  clock.value = Math.max(clock.value, maxClock(local ?? []), ...Object.values(context ?? {})) + 1;
  return mint(local ?? [], {
    actor,
    clock: clock.value,
    payload: { bytes: text === null ? null : enc(text), mintedMs: clock.value },
    ...(context ? { context } : {}),
  });
}

/**
 * Builds replica states the way the system does: a few replicas mint writes
 * on their own copy and sometimes merge another replica's copy.
 */
const histories = fc
  .array(
    fc.record({
      replica: fc.integer({ min: 0, max: 3 }),
      kind: fc.constantFrom('put', 'delete', 'sync'),
      from: fc.integer({ min: 0, max: 3 }),
    }),
    { maxLength: 30 },
  )
  .map((steps) => {
    const states: (ReplicaRecord | undefined)[] = [undefined, undefined, undefined, undefined];
    const clock = { value: 0 };
    for (const [i, step] of steps.entries()) {
      const local = states[step.replica];
      if (step.kind === 'sync') {
        states[step.replica] = merge(local, states[step.from]);
        continue;
      }
      states[step.replica] = mintAt(
        clock,
        local,
        `r${step.replica}~1`,
        step.kind === 'delete' ? null : `v${i}`,
      ).record;
    }
    return states;
  });

describe('replica records (core dotted versions)', () => {
  it('merge is commutative, associative and idempotent, so replicas converge', () => {
    fc.assert(
      fc.property(histories, ([a, b, c]) => {
        same(merge(a, b), merge(b, a));
        same(merge(merge(a, b), c), merge(a, merge(b, c)));
        same(merge(a, a), a);
      }),
    );
  });

  it('every replica picks the same winner after merging the same states', () => {
    fc.assert(
      fc.property(histories, (states) => {
        const merged = states.reduce((acc, s) => merge(acc, s), undefined as ReplicaRecord | undefined);
        const reversed = [...states]
          .reverse()
          .reduce((acc, s) => merge(acc, s), undefined as ReplicaRecord | undefined);
        if (merged) expect(winnerOf(merged)).toEqual(winnerOf(reversed!));
      }),
    );
  });

  it('a write made after seeing a version replaces it; writes that did not see each other stay siblings', () => {
    const clock = { value: 0 };
    const a = mintAt(clock, undefined, 'a', 'a1').record;
    const b = mintAt(clock, undefined, 'b', 'b1').record;
    const both = merge(a, b)!;
    expect(winnerOf(both).dot.replica).toBe('b'); // b has the higher stamp and wins
    expect(losersOf(both).map((s) => s.dot.replica)).toEqual(['a']);
    const resolved = mintAt(clock, both, 'a', 'a2').record;
    expect(resolved).toHaveLength(1);
    // A stale copy merged in later does not bring the replaced versions back.
    same(merge(resolved, b), resolved);
    same(merge(a, resolved), resolved);
    // A write with an explicit, older context keeps what that context did not see.
    const partial = mintAt(clock, both, 'a', 'a3', joinContext(a)).record;
    expect(partial.map((s) => s.dot.replica).sort()).toEqual(['a', 'b']);
  });

  it('a replica that lost a key mints a fresh dot, so an old context cannot swallow the new write', () => {
    const clock = { value: 0 };
    const old = mintAt(clock, undefined, 'a', 'old').record;
    // The record is gone (reaped, or a wiped disk under a running process); the clock is not.
    const fresh = mintAt(clock, undefined, 'a', 'new').record;
    expect(winnerOf(fresh).dot.counter).toBeGreaterThan(winnerOf(old).dot.counter);
    const stale = mintAt(clock, fresh, 'b', 'client', joinContext(old)).record;
    expect(stale.map((s) => new TextDecoder().decode(s.value.bytes!)).sort()).toEqual(['client', 'new']);
  });

  it('beyond siblingsMax the lowest-ranked losers go, the same way on every replica', () => {
    const clock = { value: 0 };
    const writes = Array.from(
      { length: siblingsMax + 4 },
      (_, i) => mintAt(clock, undefined, `r${i}`, `w${i}`).record,
    );
    const forward = writes.reduce((acc, w) => merge(acc, w), undefined as ReplicaRecord | undefined)!;
    const backward = [...writes]
      .reverse()
      .reduce((acc, w) => merge(acc, w), undefined as ReplicaRecord | undefined)!;
    expect(forward).toHaveLength(siblingsMax);
    same(forward, backward);
    // The highest stamps are the ones kept.
    expect(Math.min(...forward.map((s) => s.stamp.clock))).toBe(5);
  });

  it('tombstones are versions like any other', () => {
    const clock = { value: 0 };
    const live = mintAt(clock, undefined, 'a', 'v').record;
    const gone = mintAt(clock, live, 'a', null).record;
    expect(isTombstoneOnly(live)).toBe(false);
    expect(isTombstoneOnly(gone)).toBe(true);
    expect(gone).toHaveLength(1);
  });
});

describe('record wire form', () => {
  it('round-trips through CBOR and the strict check', () => {
    fc.assert(
      fc.property(histories, (states) => {
        for (const state of states) {
          if (state) expect(recordFromWire(decodeValue(encodeValue(recordToWire(state))))).toEqual(state);
        }
      }),
    );
  });

  it('refuses malformed records with BadFrameError only', () => {
    const clock = { value: 0 };
    const good = recordToWire(
      merge(mintAt(clock, undefined, 'a', 'x').record, mintAt(clock, undefined, 'b', null).record)!,
    );
    const [first, second] = good;
    const bad: unknown[] = [
      [],
      {},
      null,
      [second, first], // not sorted by dot
      [first, first], // duplicate dot
      [{ ...first, value: { bytes: 'text', mintedMs: 0 } }],
      [{ ...first, value: { bytes: null, mintedMs: -1 } }],
      [{ ...first, value: null }],
      [{ ...first, stamp: { clock: 1, node: 'n'.repeat(300) } }],
      [{ ...first, context: new Map([['a', 1]]) }],
      [{ ...first, dot: { replica: 'a', counter: 0 } }],
      Array.from({ length: siblingsMax + 1 }, () => first),
    ];
    expect(recordFromWire(good)).toHaveLength(2);
    for (const record of bad) expect(() => recordFromWire(record)).toThrow(BadFrameError);
    fc.assert(
      fc.property(fc.anything(), (raw) => {
        try {
          recordFromWire(raw);
        } catch (error) {
          expect(error).toBeInstanceOf(BadFrameError);
        }
      }),
    );
  });
});
