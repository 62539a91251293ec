import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, copyBytes, prefixEnd } from './bytes.ts';

const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : Buffer.from(b).toString('hex'));

describe('compareBytes', () => {
  it('agrees with Buffer.compare on random inputs', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 6 }), fc.uint8Array({ maxLength: 6 }), (a, b) => {
        expect(compareBytes(a, b)).toBe(Buffer.compare(a, b));
      }),
    );
  });
});

describe('prefixEnd', () => {
  it('increments the last byte that is not 0xFF', () => {
    expect(hex(prefixEnd(Uint8Array.of(1, 2)))).toBe('0103');
    expect(hex(prefixEnd(Uint8Array.of(1, 0xff, 0xff)))).toBe('02');
    expect(hex(prefixEnd(Uint8Array.of(0xfe, 0xff)))).toBe('ff');
    expect(prefixEnd(Uint8Array.of(0xff, 0xff))).toBeUndefined();
    expect(prefixEnd(new Uint8Array(0))).toBeUndefined();
  });

  it('bounds exactly the keys that start with the prefix (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3 }), fc.uint8Array({ maxLength: 5 }), (prefix, key) => {
        const end = prefixEnd(prefix);
        const starts = key.length >= prefix.length && prefix.every((b, i) => key[i] === b);
        const inside = compareBytes(key, prefix) >= 0 && (end === undefined || compareBytes(key, end) < 0);
        expect(inside).toBe(starts);
      }),
    );
  });

  it('leaves a Buffer prefix untouched', () => {
    const prefix = Buffer.from([1, 2]);
    prefixEnd(prefix);
    expect(hex(prefix)).toBe('0102');
  });
});

describe('copyBytes', () => {
  it('returns a plain Uint8Array that shares no memory, even from a Buffer', () => {
    const source = Buffer.from([1, 2, 3]);
    const copy = copyBytes(source.subarray(1));
    expect(copy.constructor).toBe(Uint8Array);
    source[1] = 9;
    expect(Array.from(copy)).toEqual([2, 3]);
  });
});
