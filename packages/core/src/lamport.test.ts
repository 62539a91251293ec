import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClockJumpError, InvalidClockError, LimitExceededError, TesseraError } from './errors.ts';
import {
  CLOCK_JUMP_MAX_DEFAULT,
  CLOCK_MAX,
  compareNodeIds,
  compareStamps,
  LamportClock,
  type LamportStamp,
} from './lamport.ts';

const vectors = JSON.parse(readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'))
  .clocks as {
  clockJumpMaxDefault: number;
  receive: { local: number; remote: number | string; result?: number; error?: string }[];
  stampOrder: LamportStamp[];
};

const utf8 = new TextEncoder();
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

describe('LamportClock', () => {
  it('default clockJumpMax is the documented 2^32', () => {
    expect(CLOCK_JUMP_MAX_DEFAULT).toBe(vectors.clockJumpMaxDefault);
    expect(new LamportClock().clockJumpMax).toBe(2 ** 32);
  });

  it.each(vectors.receive)('receive($remote) at $local', ({ local, remote, result, error }) => {
    const clock = new LamportClock(local);
    const r = typeof remote === 'string' ? Number(remote) : remote;
    if (error) {
      expect(() => clock.receive(r)).toThrow(expect.objectContaining({ name: error }));
      expect(clock.value).toBe(local);
    } else {
      expect(clock.receive(r)).toBe(result);
      expect(clock.value).toBe(result);
    }
  });

  it('tick increments, and stops at CLOCK_MAX without changing', () => {
    const c = new LamportClock(41);
    expect(c.tick()).toBe(42);
    expect(c.stamp('n1')).toEqual({ clock: 43, node: 'n1' });
    const top = new LamportClock(CLOCK_MAX);
    expect(() => top.tick()).toThrow(LimitExceededError);
    expect(top.value).toBe(CLOCK_MAX);
  });

  it('rejects bad construction', () => {
    expect(() => new LamportClock(-1)).toThrow(InvalidClockError);
    expect(() => new LamportClock(0, { clockJumpMax: 0 })).toThrow(InvalidClockError);
    expect(() => new LamportClock(0, { clockJumpMax: Number.POSITIVE_INFINITY })).toThrow(InvalidClockError);
    expect(() => new LamportClock(0, { clockJumpMax: 2.5 })).toThrow(InvalidClockError);
  });

  it('honours a configured clockJumpMax', () => {
    const c = new LamportClock(100, { clockJumpMax: 10 });
    expect(() => c.receive(111)).toThrow(ClockJumpError);
    expect(c.value).toBe(100);
    expect(c.receive(110)).toBe(111);
  });

  it('receive is max + 1 or a typed error with the clock unchanged, for any input', () => {
    const remote = fc.oneof(
      fc.nat(),
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.maxSafeNat(),
      fc.double(),
      fc.constantFrom(-1, 2 ** 53, Number.NaN),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.integer({ min: 1, max: 2 ** 34 }),
        remote,
        (l, jump, r) => {
          const c = new LamportClock(l, { clockJumpMax: jump });
          const ok = Number.isSafeInteger(r) && r >= 0 && r - l <= jump;
          if (ok) {
            expect(c.receive(r)).toBe(Math.max(l, r) + 1);
          } else {
            expect(() => c.receive(r)).toThrow(TesseraError);
            expect(c.value).toBe(l);
          }
        },
      ),
    );
  });

  it('a message is always stamped later than every message the sender had received (happened-before)', () => {
    // Random exchanges among 3 nodes: every stamp a node sends is > every stamp it received before.
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(2), fc.nat(2)), { maxLength: 60 }), (sends) => {
        const clocks = [new LamportClock(), new LamportClock(), new LamportClock()];
        const seenMax = [0, 0, 0];
        for (const [from, to] of sends) {
          const stamp = clocks[from]!.tick();
          expect(stamp).toBeGreaterThan(seenMax[from]!);
          if (from !== to) {
            clocks[to]!.receive(stamp);
            seenMax[to] = Math.max(seenMax[to]!, stamp);
          }
        }
      }),
    );
  });
});

describe('compareStamps', () => {
  it('orders the vector list exactly as listed', () => {
    const list = vectors.stampOrder;
    for (let i = 0; i < list.length; i++) {
      for (let j = 0; j < list.length; j++) {
        expect(compareStamps(list[i]!, list[j]!)).toBe(Math.sign(i - j));
      }
    }
  });

  it('is a total order matching (clock, UTF-8 bytes of node)', () => {
    const stamp = fc.record({ clock: fc.nat(5), node: fc.string({ unit: 'grapheme', maxLength: 4 }) });
    fc.assert(
      fc.property(stamp, stamp, (a, b) => {
        const expected =
          a.clock !== b.clock
            ? Math.sign(a.clock - b.clock)
            : Math.sign(compareBytes(utf8.encode(a.node), utf8.encode(b.node)));
        expect(compareStamps(a, b)).toBe(expected);
        expect(compareStamps(b, a)).toBe(-expected || 0);
      }),
    );
  });

  it('node ids compare by code point where UTF-16 order differs', () => {
    expect(compareNodeIds('\uffff', '😀')).toBe(-1);
    expect('\uffff' < '😀').toBe(false);
    expect(compareNodeIds('a', 'a')).toBe(0);
    expect(compareNodeIds('a', 'ab')).toBe(-1);
  });
});
