import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from './errors.ts';
import { crc16, isSlot, keySlot, SLOT_COUNT, SLOT_MAX } from './slot.ts';

interface SlotVector {
  key?: string;
  keyHex?: string;
  slot: number;
  hashed?: string;
  hashedHex?: string;
}
const vectors = JSON.parse(readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'))
  .slots as {
  crc16: { input: string; crc: string }[];
  keySlot: SlotVector[];
};

const utf8 = new TextEncoder();
const fromHex = (hex: string) => Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));

/** Bit-at-a-time CRC16-XMODEM, written from the definition, to check the table-driven one. */
function referenceCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let k = 0; k < 8; k++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** Redis's keyHashSlot() from cluster.c, transcribed loop for loop. */
function referenceKeySlot(key: Uint8Array): number {
  let s = 0;
  for (; s < key.length; s++) if (key[s] === 0x7b) break;
  if (s === key.length) return referenceCrc16(key) & 0x3fff;
  let e = s + 1;
  for (; e < key.length; e++) if (key[e] === 0x7d) break;
  if (e === key.length || e === s + 1) return referenceCrc16(key) & 0x3fff;
  return referenceCrc16(key.subarray(s + 1, e)) & 0x3fff;
}

// Bytes biased towards braces so hash-tag edge cases come up often.
const braceyBytes = fc.array(fc.oneof(fc.constantFrom(0x7b, 0x7d, 0x61), fc.integer({ min: 0, max: 255 })), {
  maxLength: 24,
});

describe('crc16', () => {
  it.each(vectors.crc16)('crc16($input) = $crc', ({ input, crc }) => {
    expect(crc16(input)).toBe(Number.parseInt(crc, 16));
    expect(crc16(utf8.encode(input))).toBe(Number.parseInt(crc, 16));
  });

  it('matches the bitwise definition on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => crc16(bytes) === referenceCrc16(bytes)),
    );
  });
});

describe('keySlot', () => {
  it('has 16384 slots', () => {
    expect(SLOT_COUNT).toBe(16384);
    expect(SLOT_MAX).toBe(16383);
  });

  it.each(vectors.keySlot)('vector $key$keyHex -> $slot', (v) => {
    const key = v.key !== undefined ? v.key : fromHex(v.keyHex!);
    const hashed = v.hashed !== undefined ? utf8.encode(v.hashed) : fromHex(v.hashedHex!);
    expect(keySlot(key)).toBe(v.slot);
    expect(referenceCrc16(hashed) & 0x3fff).toBe(v.slot);
    if (typeof key === 'string') expect(keySlot(utf8.encode(key))).toBe(v.slot);
  });

  it('equals Redis keyHashSlot on random bytes', () => {
    fc.assert(
      fc.property(
        braceyBytes,
        (arr) => keySlot(Uint8Array.from(arr)) === referenceKeySlot(Uint8Array.from(arr)),
      ),
    );
  });

  it('hashes a string exactly as its UTF-8 bytes (lone surrogates as U+FFFD, like TextEncoder)', () => {
    const str = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 16 }),
      fc.string({ unit: fc.constantFrom('{', '}', 'a', 'é', '😀', '\ud800', '\udc00'), maxLength: 16 }),
    );
    fc.assert(
      fc.property(str, (s) => {
        const slot = keySlot(s);
        return slot === keySlot(utf8.encode(s)) && slot === referenceKeySlot(utf8.encode(s));
      }),
    );
  });

  it('always returns a slot in range', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => isSlot(keySlot(bytes))));
  });

  it('rejects non-string, non-bytes keys with InvalidArgumentError', () => {
    for (const bad of [42, null, undefined, {}, [1, 2], new Uint16Array(2)]) {
      expect(() => keySlot(bad as unknown as string)).toThrow(InvalidArgumentError);
    }
  });
});

describe('isSlot', () => {
  it('accepts exactly the integers 0..16383', () => {
    expect([0, 1, 16383].every(isSlot)).toBe(true);
    expect([-1, 16384, 1.5, Number.NaN, '1', null].some(isSlot)).toBe(false);
  });
});
