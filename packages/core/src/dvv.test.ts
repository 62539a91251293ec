import { readFileSync } from 'node:fs';
import { decode, encode } from 'cbor-x';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareDvv,
  type Dvv,
  joinContext,
  parseVersion,
  parseVersionVector,
  pruneVersionVector,
  syncVersions,
  updateVersions,
  type Version,
  type VersionVector,
  vvCompare,
  vvMerge,
  winner,
} from './dvv.ts';
import { InvalidClockError, LimitExceededError, TesseraError } from './errors.ts';
import { LamportClock } from './lamport.ts';

const vectors = JSON.parse(readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'))
  .clocks as {
  dvvCompare: { a: Dvv; b: Dvv; result: string; note?: string }[];
  vvCompare: { a: VersionVector; b: VersionVector; result: string }[];
};

const dotKey = (v: Version) => `${v.dot.replica}:${v.dot.counter}`;
const flip = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;

/**
 * A random history: clients read from one replica (sometimes an old
 * snapshot), write through another, and replicas sync pairwise. Alongside,
 * the true happened-before relation is tracked as explicit sets of write ids,
 * independent of any vector arithmetic.
 */
type Op =
  | { kind: 'write'; readFrom: number; writeTo: number; blind: boolean; snapshot: number }
  | { kind: 'sync'; a: number; b: number };

const op = (replicas: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('write' as const),
      readFrom: fc.nat(replicas - 1),
      writeTo: fc.nat(replicas - 1),
      blind: fc.boolean(),
      snapshot: fc.nat(20),
    }),
    fc.record({ kind: fc.constant('sync' as const), a: fc.nat(replicas - 1), b: fc.nat(replicas - 1) }),
  );

interface History {
  replicas: string[];
  states: Version<number>[][];
  snapshots: Version<number>[][];
  all: Version<number>[];
  /** write id -> ids of every write it causally follows. */
  past: Map<string, Set<string>>;
}

function simulate(replicas: string[], ops: readonly Op[], update = updateVersions<number>): History {
  const states: Version<number>[][] = replicas.map(() => []);
  const clocks = replicas.map(() => new LamportClock());
  const snapshots: Version<number>[][] = [[]];
  const all: Version<number>[] = [];
  const past = new Map<string, Set<string>>();
  for (const o of ops) {
    if (o.kind === 'sync') {
      const merged = syncVersions(states[o.a]!, states[o.b]!);
      states[o.a] = merged;
      states[o.b] = merged;
      continue;
    }
    const fresh = states[o.readFrom]!;
    const read = o.blind ? [] : o.snapshot % 3 === 0 ? snapshots[o.snapshot % snapshots.length]! : fresh;
    snapshots.push(fresh);
    const seen = new Set<string>();
    for (const s of read) {
      seen.add(dotKey(s));
      for (const p of past.get(dotKey(s))!) seen.add(p);
    }
    const replica = replicas[o.writeTo]!;
    const { siblings, version } = update(
      states[o.writeTo]!,
      joinContext(read),
      replica,
      all.length,
      clocks[o.writeTo]!.stamp(replica),
    );
    states[o.writeTo] = siblings;
    past.set(dotKey(version), seen);
    all.push(version);
  }
  return { replicas, states, snapshots, all, past };
}

function truth(h: History, a: Version, b: Version): string {
  if (dotKey(a) === dotKey(b)) return 'equal';
  if (h.past.get(dotKey(b))!.has(dotKey(a))) return 'before';
  if (h.past.get(dotKey(a))!.has(dotKey(b))) return 'after';
  return 'concurrent';
}

function syncAll(states: Version<number>[][]): Version<number>[] {
  return states.reduce((acc, s) => syncVersions(acc, s), [] as Version<number>[]);
}

const R3 = ['r1', 'r2', 'r3'];
const histories = fc.array(op(3), { maxLength: 40 }).map((ops) => simulate(R3, ops));

describe('version vectors', () => {
  it.each(vectors.vvCompare)('vvCompare($a, $b) = $result', ({ a, b, result }) => {
    expect(vvCompare(a, b)).toBe(result);
    expect(vvCompare(b, a)).toBe(flip[result as keyof typeof flip]);
  });

  it('merge is commutative, associative, idempotent and an upper bound', () => {
    const vv = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'd'), fc.integer({ min: 1, max: 5 }));
    fc.assert(
      fc.property(vv, vv, vv, (a, b, c) => {
        expect(vvMerge(a, b)).toEqual(vvMerge(b, a));
        expect(vvMerge(vvMerge(a, b), c)).toEqual(vvMerge(a, vvMerge(b, c)));
        expect(vvMerge(a, a)).toEqual(vvMerge(a, {}));
        expect(['after', 'equal']).toContain(vvCompare(vvMerge(a, b), a));
      }),
    );
  });
});

describe('dotted version vectors', () => {
  it.each(vectors.dvvCompare)('compareDvv: $note', ({ a, b, result }) => {
    expect(compareDvv(a, b)).toBe(result);
    expect(compareDvv(b, a)).toBe(flip[result as keyof typeof flip]);
  });

  it('compare matches the true happened-before relation on random histories', () => {
    fc.assert(
      fc.property(histories, (h) => {
        for (const a of h.all) for (const b of h.all) expect(compareDvv(a, b)).toBe(truth(h, a, b));
      }),
      { numRuns: 150 },
    );
  });

  it('no acknowledged write is lost: after full sync every write survives or is superseded by one that saw it', () => {
    fc.assert(
      fc.property(histories, (h) => {
        const final = syncAll(h.states);
        const live = new Set(final.map(dotKey));
        for (const v of h.all) {
          const kept = live.has(dotKey(v)) || final.some((f) => h.past.get(dotKey(f))!.has(dotKey(v)));
          expect(kept).toBe(true);
        }
        for (const a of final) for (const b of final) if (a !== b) expect(truth(h, a, b)).toBe('concurrent');
      }),
      { numRuns: 150 },
    );
  });

  it('sync is commutative, associative and idempotent', () => {
    fc.assert(
      fc.property(histories, fc.nat(), fc.nat(), fc.nat(), (h, i, j, k) => {
        const pool = [...h.states, ...h.snapshots];
        const a = pool[i % pool.length]!;
        const b = pool[j % pool.length]!;
        const c = pool[k % pool.length]!;
        expect(syncVersions(a, b)).toEqual(syncVersions(b, a));
        expect(syncVersions(syncVersions(a, b), c)).toEqual(syncVersions(a, syncVersions(b, c)));
        expect(syncVersions(a, a)).toEqual(syncVersions(a, []));
        expect(syncVersions(syncVersions(a, b), b)).toEqual(syncVersions(a, b));
      }),
      { numRuns: 150 },
    );
  });

  it('compare is consistent with sync, and a descendant always wins over its ancestor', () => {
    fc.assert(
      fc.property(histories, (h) => {
        for (const a of h.all) {
          for (const b of h.all) {
            const merged = syncVersions([a], [b]);
            const rel = compareDvv(a, b);
            if (rel === 'before') expect(merged).toEqual([b]);
            if (rel === 'after' || rel === 'equal') expect(merged).toEqual([a]);
            if (rel === 'concurrent') expect(merged).toHaveLength(2);
            if (rel === 'before') expect(winner(merged)).toBe(b);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it('winner is the same whatever order siblings arrive in: highest stamp', () => {
    fc.assert(
      fc.property(histories, (h) => {
        const final = syncAll(h.states);
        const reversed = syncAll([...h.states].reverse());
        expect(winner(final)).toBe(winner(reversed));
        const w = winner(final);
        for (const s of final) if (w && s !== w) expect(s.stamp.clock <= w.stamp.clock).toBe(true);
      }),
    );
  });

  it('a read-modify-write with the joined context replaces every sibling', () => {
    const clock = new LamportClock();
    let s: Version<string>[] = [];
    s = updateVersions(s, {}, 'r1', 'x', clock.stamp('r1')).siblings;
    s = updateVersions(s, {}, 'r1', 'y', clock.stamp('r1')).siblings;
    expect(s.map((v) => v.value)).toEqual(['x', 'y']);
    expect(s.map((v) => v.dot)).toEqual([
      { replica: 'r1', counter: 1 },
      { replica: 'r1', counter: 2 },
    ]);
    const { siblings, version } = updateVersions(s, joinContext(s), 'r2', 'z', clock.stamp('r2'));
    expect(siblings).toEqual([version]);
    expect(version.context).toEqual({ r1: 2 });
  });
});

describe('counterMin', () => {
  it('a replica that forgot a key mints a fresh dot, so a stale context does not cover the new write', () => {
    const clock = new LamportClock();
    const before = updateVersions([], {}, 'r1', 'old', clock.stamp('r1'), { counterMin: clock.value });
    const staleContext = joinContext(before.siblings);
    // The record is gone from r1 (reaped or wiped); r1 keeps its id and its clock.
    const fresh = updateVersions([], {}, 'r1', 'new', clock.stamp('r1'), { counterMin: clock.value });
    expect(fresh.version.dot.counter).toBeGreaterThan(before.version.dot.counter);
    // A client that read only the old write replaces only what it saw: the new write survives.
    const later = updateVersions(fresh.siblings, staleContext, 'r2', 'client', clock.stamp('r2'));
    expect(later.siblings.map((v) => v.value)).toEqual(['new', 'client']);
    // Without counterMin the forgotten dot is minted again and the stale context would swallow it.
    const reused = updateVersions([], {}, 'r1', 'new', clock.stamp('r1'));
    expect(reused.version.dot).toEqual(before.version.dot);
  });

  it('never lowers the counter below what the siblings or the context show, and rejects bad bounds', () => {
    const clock = new LamportClock();
    const s = updateVersions([], { r1: 7 }, 'r1', 'x', clock.stamp('r1'), { counterMin: 3 });
    expect(s.version.dot).toEqual({ replica: 'r1', counter: 8 });
    for (const counterMin of [0, -1, 1.5, Number.NaN, 2 ** 53]) {
      expect(() => updateVersions([], {}, 'r1', 'x', clock.stamp('r1'), { counterMin })).toThrow(
        InvalidClockError,
      );
    }
  });
});

describe('bounded size', () => {
  it('prune keeps protected entries, then the largest counters', () => {
    expect(pruneVersionVector({ a: 5, b: 1, c: 9, d: 2 }, 2, ['b'])).toEqual({ b: 1, c: 9 });
    expect(pruneVersionVector({ a: 1, b: 1, c: 1 }, 2)).toEqual({ a: 1, b: 1 });
    expect(() => pruneVersionVector({ a: 1, b: 1 }, 1, ['a', 'b'])).toThrow(LimitExceededError);
  });

  it('with retired replicas pruned, order is never invented and no write is lost', () => {
    // 'old1'..'old4' coordinate early writes, then retire; current owners stay protected.
    const retired = ['old1', 'old2', 'old3', 'old4'];
    const replicas = [...retired, ...R3];
    const ops = fc
      .tuple(fc.array(op(7), { maxLength: 20 }), fc.array(op(3), { maxLength: 25 }))
      .map(([early, late]) => [
        ...early,
        ...late.map(
          (o): Op =>
            o.kind === 'sync' ? { ...o, a: o.a + 4, b: o.b + 4 } : { ...o, writeTo: o.writeTo + 4 },
        ),
      ]);
    const bounded: typeof updateVersions<number> = (s, c, r, v, st) =>
      updateVersions(s, c, r, v, st, { entriesMax: 3, keep: R3 });
    fc.assert(
      fc.property(ops, (o) => {
        const h = simulate(replicas, o, bounded);
        for (const v of h.all) expect(Object.keys(v.context).length).toBeLessThanOrEqual(3);
        for (const a of h.all) {
          for (const b of h.all) {
            const rel = compareDvv(a, b);
            if (rel !== 'concurrent') expect(rel).toBe(truth(h, a, b));
          }
        }
        const final = syncAll(h.states);
        for (const v of h.all) {
          const kept = final.some((f) => dotKey(f) === dotKey(v) || h.past.get(dotKey(f))!.has(dotKey(v)));
          expect(kept).toBe(true);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('wire form', () => {
  it('round-trips through CBOR and parseVersion', () => {
    fc.assert(
      fc.property(histories, (h) => {
        for (const v of h.all) expect(parseVersion(decode(encode(v)))).toEqual(v);
      }),
      { numRuns: 30 },
    );
  });

  it('parseVersionVector checks a bare context and returns a fresh, sorted copy', () => {
    expect(parseVersionVector(decode(encode({ b: 2, a: 1 })))).toEqual({ a: 1, b: 2 });
    expect(Object.keys(parseVersionVector({ b: 2, a: 1 }))).toEqual(['a', 'b']);
    for (const bad of [null, [], new Map(), { a: 0 }, { '': 1 }, JSON.parse('{"__proto__": 1}'), 'x']) {
      expect(() => parseVersionVector(bad)).toThrow(InvalidClockError);
    }
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, 1]));
    expect(parseVersionVector(big)).toEqual(big);
    expect(() => parseVersionVector(big, { entriesMax: 32 })).toThrow(LimitExceededError);
  });

  it('rejects malformed versions with typed errors only', () => {
    const good = {
      dot: { replica: 'r1', counter: 1 },
      context: { r2: 3 },
      stamp: { clock: 1, node: 'r1' },
      value: 1,
    };
    const bad: unknown[] = [
      null,
      42,
      { ...good, dot: null },
      { ...good, dot: { replica: '', counter: 1 } },
      { ...good, dot: { replica: 'r1', counter: 0 } },
      { ...good, dot: { replica: 'r1', counter: 1.5 } },
      { ...good, context: [] },
      { ...good, context: { r2: -1 } },
      { ...good, context: { r2: '3' } },
      { ...good, context: JSON.parse('{"__proto__": 3}') },
      { ...good, context: { ['x'.repeat(300)]: 1 } },
      { ...good, stamp: { clock: -1, node: 'r1' } },
      { ...good, stamp: undefined },
    ];
    expect(parseVersion(good)).toEqual(good);
    expect(() => parseVersion({ ...good, context: new Map([['r2', 3]]) })).toThrow(InvalidClockError);
    for (const b of bad) expect(() => parseVersion(b)).toThrow(InvalidClockError);
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`r${i}`, 1]));
    expect(() => parseVersion({ ...good, context: big })).toThrow(LimitExceededError);
    fc.assert(
      fc.property(fc.anything(), (x) => {
        try {
          parseVersion(x);
        } catch (e) {
          expect(e).toBeInstanceOf(TesseraError);
        }
      }),
    );
  });
});
