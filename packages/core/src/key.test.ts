import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from './bytes.ts';
import { DecodeError, InvalidArgumentError, LimitExceededError, TesseraError } from './errors.ts';
import {
  categoryRange,
  decodeKey,
  encodeKey,
  INDEX_PRIMARY,
  INDEX_SECONDARY,
  type KeyCategory,
  keyCategories,
  keyPrefix,
  keyRange,
} from './key.ts';
import { keyBytesMax } from './limits.ts';
import type { TupleElement } from './tuple.ts';

interface KeyVectors {
  keys: {
    valid: {
      name: string;
      category: KeyCategory;
      elements: TupleElement[];
      valueType?: number;
      hex: string;
    }[];
    invalid: { name: string; hex: string; error: string; offset: number }[];
  };
}
const vectors = JSON.parse(
  readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'),
) as KeyVectors;

function fromHex(hex: string): Uint8Array {
  return Uint8Array.from(hex.replaceAll(' ', '').match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}
function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

describe('key vectors', () => {
  it('encodes the issue example exactly', () => {
    expect(toHex(encodeKey('O', ['db', 'users', 42]))).toBe('4f 11 02 64 62 00 02 75 73 65 72 73 00 15 2a');
  });

  for (const v of vectors.keys.valid) {
    it(`encodes a ${v.name} key`, () => {
      const options = v.valueType === undefined ? undefined : { valueType: v.valueType };
      expect(toHex(encodeKey(v.category, v.elements, options))).toBe(v.hex);
      expect(decodeKey(fromHex(v.hex))).toEqual({
        category: v.category,
        version: 1,
        valueType: v.valueType ?? 1,
        elements: v.elements,
      });
    });
  }

  for (const v of vectors.keys.invalid) {
    it(`rejects ${v.name}`, () => {
      let error: unknown;
      try {
        decodeKey(fromHex(v.hex));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).name).toBe(v.error);
      expect((error as DecodeError).offset).toBe(v.offset);
    });
  }
});

describe('docs/spec/keys.md', () => {
  it('quotes every key and tuple vector', () => {
    const doc = readFileSync(new URL('../../../docs/spec/keys.md', import.meta.url), 'utf8');
    const all = vectors as KeyVectors & { tuple: { valid: { hex: string }[]; invalid: { hex: string }[] } };
    const hexes = [...all.keys.valid, ...all.keys.invalid, ...all.tuple.valid, ...all.tuple.invalid].map(
      (v) => v.hex,
    );
    expect(hexes.filter((h) => !doc.includes(`\`${h}\``))).toEqual([]);
  });
});

describe('header', () => {
  it('writes version and value type into byte 1', () => {
    const key = encodeKey('I', ['db'], { version: 7, valueType: INDEX_SECONDARY });
    expect(key[1]).toBe(0x72);
    expect(decodeKey(key)).toMatchObject({ category: 'I', version: 7, valueType: INDEX_SECONDARY });
    expect(encodeKey('I', [], { valueType: INDEX_PRIMARY })[1]).toBe(0x11);
  });

  it('refuses reserved header values and unknown categories on encode', () => {
    for (const version of [0, 8, 15, 1.5, -1]) {
      expect(() => encodeKey('O', [], { version })).toThrow(InvalidArgumentError);
    }
    for (const valueType of [0, 16, 2.5]) {
      expect(() => encodeKey('O', [], { valueType })).toThrow(InvalidArgumentError);
    }
    for (const category of ['X', 'o', 'OO', '', 79]) {
      expect(() => encodeKey(category as KeyCategory, [])).toThrow(InvalidArgumentError);
    }
  });

  it('decodes every valid header and rejects every other', () => {
    const categoryBytes = [0x00, 0x41, 0x58, 0x6f, 0xff, ...keyCategories.map((c) => c.charCodeAt(0))];
    const accepted: string[] = [];
    for (const c of categoryBytes) {
      for (let h = 0; h < 256; h++) {
        try {
          const key = decodeKey(Uint8Array.of(c, h));
          accepted.push(`${key.category}${key.version}.${key.valueType}`);
        } catch (error) {
          if (!(error instanceof DecodeError)) throw error;
        }
      }
    }
    const expected: string[] = [];
    for (const category of [...keyCategories].sort()) {
      for (let version = 1; version <= 7; version++) {
        for (let valueType = 1; valueType <= 15; valueType++)
          expected.push(`${category}${version}.${valueType}`);
      }
    }
    expect(accepted.sort()).toEqual(expected.sort());
  });
});

describe('limits', () => {
  it('counts the header against keyBytesMax', () => {
    expect(encodeKey('O', ['a'.repeat(keyBytesMax - 4)]).length).toBe(keyBytesMax);
    expect(() => encodeKey('O', ['a'.repeat(keyBytesMax - 3)])).toThrow(LimitExceededError);
    expect(() => decodeKey(new Uint8Array(keyBytesMax + 1).fill(0x4f))).toThrow(LimitExceededError);
  });
});

describe('prefixes and ranges', () => {
  const keys = [
    encodeKey('O', ['db', 'users', 1]),
    encodeKey('O', ['db', 'users', 'alice']),
    encodeKey('O', ['db', 'users', ['nested', 2]]),
    encodeKey('O', ['db', 'users2', 1]),
    encodeKey('O', ['db', 'user', 1]),
    encodeKey('O', ['db', 'users']),
    encodeKey('O', ['dc', 'users', 1]),
    encodeKey('I', ['db', 'users', 1]),
    encodeKey('O', ['db', 'users', 1], { valueType: 2 }),
  ];

  it('keyPrefix starts exactly the keys under it', () => {
    const prefix = keyPrefix('O', ['db', 'users']);
    const under = keys.filter((k) => compareBytes(k.subarray(0, prefix.length), prefix) === 0);
    expect(under.map((k) => decodeKey(k).elements)).toEqual([
      ['db', 'users', 1],
      ['db', 'users', 'alice'],
      ['db', 'users', ['nested', 2]],
      ['db', 'users'],
    ]);
  });

  it('keyRange holds the same keys as the prefix', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -300, max: 300 })), {
          maxLength: 3,
        }),
        fc.array(fc.oneof(fc.string({ maxLength: 3 }), fc.integer({ min: -300, max: 300 })), {
          maxLength: 3,
        }),
        (base, rest) => {
          const { start, end } = keyRange('O', base);
          const key = encodeKey('O', [...base, ...rest]);
          expect(compareBytes(key, start) >= 0 && compareBytes(key, end) < 0).toBe(true);
          const other = encodeKey('O', [...base.slice(0, -1), 'zz-other']);
          if (base.length > 0 && base.at(-1) !== 'zz-other') {
            expect(compareBytes(other, start) >= 0 && compareBytes(other, end) < 0).toBe(false);
          }
        },
      ),
    );
  });

  it('categoryRange covers every header of one category and nothing else', () => {
    for (const category of keyCategories) {
      const { start, end } = categoryRange(category);
      for (const key of keys) {
        const inside = compareBytes(key, start) >= 0 && compareBytes(key, end) < 0;
        expect(inside).toBe(decodeKey(key).category === category);
      }
    }
    expect(() => categoryRange('Q' as KeyCategory)).toThrow(InvalidArgumentError);
  });
});

describe('properties', () => {
  const arbElement: fc.Arbitrary<TupleElement> = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 6 }),
    fc.integer(),
    fc.bigInt({ min: -(2n ** 64n - 1n), max: 2n ** 64n - 1n }),
    fc.uint8Array({ maxLength: 5 }),
    fc.constant(null),
    fc.boolean(),
  );
  const arbCategory = fc.constantFrom(...keyCategories);

  it('orders keys of one header like their element lists, and categories by letter', () => {
    fc.assert(
      fc.property(arbCategory, arbCategory, fc.array(arbElement, { maxLength: 4 }), (c1, c2, elements) => {
        const a = encodeKey(c1, elements);
        const b = encodeKey(c2, elements);
        expect(compareBytes(a, b)).toBe(Math.sign(c1.charCodeAt(0) - c2.charCodeAt(0)));
      }),
    );
  });

  it('decodes hostile bytes or throws a TesseraError, never anything else', () => {
    const header = fc.tuple(fc.constantFrom(0x4f, 0x49, 0x58), fc.integer({ min: 0, max: 255 }));
    fc.assert(
      fc.property(header, fc.uint8Array({ maxLength: 30 }), ([c, h], body) => {
        const bytes = Uint8Array.of(c, h, ...body);
        try {
          const key = decodeKey(bytes);
          expect(toHex(encodeKey(key.category, key.elements, key))).toBe(toHex(bytes));
        } catch (error) {
          expect(error).toBeInstanceOf(TesseraError);
        }
      }),
      { numRuns: 5000 },
    );
  });
});
