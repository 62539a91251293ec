import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { merge, mint, type ReplicaRecord, versionHash, winnerOf } from './record.ts';
import { recordFromWire, recordToWire } from './record-codec.ts';

const enc = (text: string) => new TextEncoder().encode(text);
const same = (a: ReplicaRecord | undefined, b: ReplicaRecord | undefined) =>
  expect(a && versionHash(a)).toEqual(b && versionHash(b));

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
    {
      maxLength: 30,
    },
  )
  .map((steps) => {
    const states: (ReplicaRecord | undefined)[] = [undefined, undefined, undefined, undefined];
    let clock = 0;
    for (const [i, step] of steps.entries()) {
      const local = states[step.replica];
      if (step.kind === 'sync') {
        states[step.replica] = merge(local, states[step.from]);
        continue;
      }
      clock = Math.max(clock, ...(local?.vv.map(([, c]) => c) ?? [0])) + 1;
      states[step.replica] = mint(local, {
        actor: `r${step.replica}`,
        counter: clock,
        mintedMs: i,
        deleted: step.kind === 'delete',
        value: enc(`v${i}`),
      }).record;
    }
    return states;
  });

describe('replica records (DVV sets)', () => {
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
    const a = mint(undefined, {
      actor: 'a',
      counter: 1,
      mintedMs: 0,
      deleted: false,
      value: enc('a1'),
    }).record;
    const b = mint(undefined, {
      actor: 'b',
      counter: 2,
      mintedMs: 0,
      deleted: false,
      value: enc('b1'),
    }).record;
    const both = merge(a, b)!;
    expect(both.siblings.map((s) => s.actor)).toEqual(['b', 'a']); // b has the higher stamp and wins
    const resolved = mint(both, {
      actor: 'a',
      counter: 3,
      mintedMs: 0,
      deleted: false,
      value: enc('a2'),
    }).record;
    expect(resolved.siblings).toHaveLength(1);
    // A stale copy merged in later does not bring the replaced versions back.
    same(merge(resolved, b), resolved);
    same(merge(a, resolved), resolved);
    // A write with an explicit, older context keeps what that context did not see.
    const partial = mint(both, {
      actor: 'a',
      counter: 4,
      mintedMs: 0,
      deleted: false,
      value: enc('a3'),
      context: a.vv,
    }).record;
    expect(partial.siblings.map((s) => s.actor).sort()).toEqual(['a', 'b']);
  });

  it('the wire form round-trips through the strict check', () => {
    fc.assert(
      fc.property(histories, (states) => {
        for (const state of states) if (state) expect(recordFromWire(recordToWire(state))).toEqual(state);
      }),
    );
  });
});
