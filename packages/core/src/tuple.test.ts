import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes } from './bytes.ts';
import { Double } from './double.ts';
import { DecodeError, InvalidArgumentError, LimitExceededError, TesseraError } from './errors.ts';
import { keyBytesMax, tupleDepthMax } from './limits.ts';
import { decodeTuple, encodeTuple, type TupleElement } from './tuple.ts';
import { Uuid } from './uuid.ts';

type JsonElement = unknown;
interface Vectors {
  tuple: {
    valid: { name: string; elements: JsonElement[]; hex: string }[];
    invalid: { name: string; hex: string; error: string; offset: number }[];
  };
}
const vectors = JSON.parse(
  readFileSync(new URL('../testdata/vectors.json', import.meta.url), 'utf8'),
) as Vectors;

function fromHex(hex: string): Uint8Array {
  const clean = hex.replaceAll(' ', '');
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}
function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

const specialDoubles: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

/** Reads the vector file's element notation (see its "about"). */
function fromJson(j: JsonElement): TupleElement {
  if (Array.isArray(j)) return j.map(fromJson);
  if (j !== null && typeof j === 'object') {
    const o = j as Record<string, unknown>;
    if ('int' in o) return BigInt(o.int as string);
    if ('double' in o) {
      const d = o.double;
      return new Double(typeof d === 'string' ? specialDoubles[d]! : (d as number));
    }
    if ('bytes' in o) return fromHex(o.bytes as string);
    if ('uuid' in o) return Uuid.parse(o.uuid as string);
    throw new Error(`bad vector element ${JSON.stringify(j)}`);
  }
  return j as TupleElement;
}

/** What decoding gives back for an element: safe integers as numbers, doubles unwrapped unless integral. */
function normalize(el: TupleElement): TupleElement {
  if (Array.isArray(el)) return el.map(normalize);
  if (typeof el === 'number') return Number.isSafeInteger(el) ? el + 0 : el;
  if (typeof el === 'bigint')
    return Number.isSafeInteger(Number(el)) && BigInt(Number(el)) === el ? Number(el) : el;
  if (el instanceof Double) return Number.isSafeInteger(el.value) ? el : el.value;
  return el;
}

describe('tuple vectors', () => {
  for (const v of vectors.tuple.valid) {
    it(`encodes ${v.name}`, () => {
      const elements = v.elements.map(fromJson);
      expect(toHex(encodeTuple(elements))).toBe(v.hex);
      const decoded = decodeTuple(fromHex(v.hex));
      expect(decoded).toEqual(elements.map(normalize));
      expect(toHex(encodeTuple(decoded))).toBe(v.hex);
    });
  }
  for (const v of vectors.tuple.invalid) {
    it(`rejects ${v.name}`, () => {
      const error = catchError(() => decodeTuple(fromHex(v.hex)));
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as DecodeError).name).toBe(v.error);
      expect((error as DecodeError).offset).toBe(v.offset);
    });
  }
});

function catchError(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('numbers', () => {
  it('encodes integral numbers as integers and the rest as doubles', () => {
    expect(toHex(encodeTuple([42]))).toBe('15 2a');
    expect(toHex(encodeTuple([-0]))).toBe('14');
    expect(encodeTuple([1.5])[0]).toBe(0x21);
    expect(encodeTuple([2 ** 53])[0]).toBe(0x21);
    expect(encodeTuple([new Double(42)])[0]).toBe(0x21);
  });

  it('decodes integers beyond the safe range as bigint and doubles as numbers', () => {
    expect(decodeTuple(encodeTuple([2n ** 60n, -(2n ** 60n), 7n, 1.5]))).toEqual([
      2n ** 60n,
      -(2n ** 60n),
      7,
      1.5,
    ]);
    expect(decodeTuple(encodeTuple([new Double(-0)]))).toEqual([new Double(-0)]);
  });

  it('rejects integers wider than 64 bits', () => {
    expect(() => encodeTuple([2n ** 64n])).toThrow(InvalidArgumentError);
    expect(() => encodeTuple([-(2n ** 64n)])).toThrow(InvalidArgumentError);
  });

  it('writes every NaN as the canonical one', () => {
    const payloadNaN = new Float64Array(new BigUint64Array([0x7ff0_0000_0000_0001n]).buffer)[0]!;
    expect(toHex(encodeTuple([payloadNaN]))).toBe(toHex(encodeTuple([Number.NaN])));
  });
});

describe('rejection on encode', () => {
  const bad: [string, unknown][] = [
    ['undefined', undefined],
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['plain object', { a: 1 }],
    ['Date', new Date(0)],
    ['Map', new Map()],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}`, () => {
      expect(() => encodeTuple([value as TupleElement])).toThrow(InvalidArgumentError);
      expect(() => encodeTuple([[value as TupleElement]])).toThrow(InvalidArgumentError);
    });
  }

  it('rejects a string with a lone surrogate instead of changing it', () => {
    expect(() => encodeTuple(['a\ud800b'])).toThrow(InvalidArgumentError);
    expect(() => encodeTuple(['\udc00'])).toThrow(InvalidArgumentError);
    expect(decodeTuple(encodeTuple(['\ud83d\ude00']))).toEqual(['\ud83d\ude00']);
  });

  it('keeps a leading byte order mark', () => {
    expect(decodeTuple(encodeTuple(['\ufeffx']))).toEqual(['\ufeffx']);
  });
});

describe('limits', () => {
  it(`encodes up to ${keyBytesMax} bytes and refuses one more`, () => {
    expect(encodeTuple(['a'.repeat(keyBytesMax - 2)]).length).toBe(keyBytesMax);
    expect(() => encodeTuple(['a'.repeat(keyBytesMax - 1)])).toThrow(LimitExceededError);
    expect(() => encodeTuple(['\u0000'.repeat(keyBytesMax)])).toThrow(LimitExceededError);
    expect(() => encodeTuple([new Uint8Array(keyBytesMax)])).toThrow(LimitExceededError);
    expect(() => encodeTuple(Array.from({ length: keyBytesMax + 1 }, () => true))).toThrow(
      LimitExceededError,
    );
  });

  it('refuses to decode more than keyBytesMax bytes', () => {
    expect(() => decodeTuple(new Uint8Array(keyBytesMax + 1))).toThrow(LimitExceededError);
  });

  it(`nests tuples ${tupleDepthMax} deep and no deeper`, () => {
    const nest = (depth: number): TupleElement[] => {
      let t: TupleElement[] = [];
      for (let i = 0; i < depth; i++) t = [t];
      return t;
    };
    expect(decodeTuple(encodeTuple(nest(tupleDepthMax)))).toEqual(nest(tupleDepthMax));
    expect(() => encodeTuple(nest(tupleDepthMax + 1))).toThrow(LimitExceededError);
    const deep = new Uint8Array(2 * (tupleDepthMax + 1));
    deep.fill(0x05, 0, tupleDepthMax + 1);
    expect(() => decodeTuple(deep)).toThrow(LimitExceededError);
  });

  it('stops on a cyclic array instead of overflowing the stack', () => {
    const cycle: TupleElement[] = [];
    cycle.push(cycle);
    expect(() => encodeTuple(cycle)).toThrow(LimitExceededError);
  });

  it('leaves nothing behind after a failed encode', () => {
    expect(() => encodeTuple(['x', undefined as unknown as TupleElement])).toThrow(InvalidArgumentError);
    expect(toHex(encodeTuple(['y']))).toBe('02 79 00');
  });
});

// --- property tests -------------------------------------------------------

const uint64Max = 2n ** 64n - 1n;
const { element: arbElement } = fc.letrec<{ element: TupleElement; nested: TupleElement[] }>((tie) => ({
  element: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -1000, max: 1000 }),
    fc.maxSafeInteger(),
    fc.bigInt({ min: -uint64Max, max: uint64Max }),
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.string({ unit: fc.constantFrom('a', 'b', '\u0000', '\u00ff', '\ud83d\ude00'), maxLength: 6 }),
    fc.uint8Array({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 4, max: 2 }),
    fc.double(),
    fc.double().map((d) => new Double(d)),
    fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => new Uuid(b)),
    tie('nested'),
  ),
  nested: fc.array(tie('element'), { maxLength: 4 }),
}));
const arbTuple = fc.array(arbElement, { maxLength: 5 });

/** Independent reference order: type group, then value (FoundationDB's tuple order). */
function typeRank(el: TupleElement): number {
  if (el === null) return 0;
  if (el instanceof Uint8Array) return 1;
  if (typeof el === 'string') return 2;
  if (Array.isArray(el)) return 5;
  if (typeof el === 'bigint' || (typeof el === 'number' && Number.isSafeInteger(el))) return 0x14;
  if (typeof el === 'number' || el instanceof Double) return 0x21;
  if (el === false) return 0x26;
  if (el === true) return 0x27;
  return 0x30;
}

function sign(n: number | bigint): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

function compareLex(a: ArrayLike<number>, b: ArrayLike<number>): -1 | 0 | 1 {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return sign(a[i]! - b[i]!);
  return sign(a.length - b.length);
}

function compareDoubles(a: number, b: number): -1 | 0 | 1 {
  if (Number.isNaN(a) || Number.isNaN(b))
    return Number.isNaN(a) && Number.isNaN(b) ? 0 : Number.isNaN(a) ? 1 : -1;
  if (a !== b) return a < b ? -1 : 1;
  if (a === 0) return sign((Object.is(b, -0) ? 1 : 0) - (Object.is(a, -0) ? 1 : 0));
  return 0;
}

function compareElements(a: TupleElement, b: TupleElement): -1 | 0 | 1 {
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return sign(ra - rb);
  switch (ra) {
    case 1:
      return compareLex(a as Uint8Array, b as Uint8Array);
    case 2:
      // Code point order, which UTF-16 comparison gets wrong for astral characters.
      return compareLex(
        Array.from(a as string, (c) => c.codePointAt(0)!),
        Array.from(b as string, (c) => c.codePointAt(0)!),
      );
    case 5:
      return compareTuples(a as TupleElement[], b as TupleElement[]);
    case 0x14:
      return sign(BigInt(a as number | bigint) - BigInt(b as number | bigint));
    case 0x21: {
      const x = a instanceof Double ? a.value : (a as number);
      const y = b instanceof Double ? b.value : (b as number);
      return compareDoubles(x, y);
    }
    case 0x30:
      return compareLex((a as Uuid).bytes, (b as Uuid).bytes);
    default:
      return 0;
  }
}

function compareTuples(a: readonly TupleElement[], b: readonly TupleElement[]): -1 | 0 | 1 {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareElements(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

describe('properties', () => {
  it('round-trips random tuples', () => {
    fc.assert(
      fc.property(arbTuple, (t) => {
        const bytes = encodeTuple(t);
        const decoded = decodeTuple(bytes);
        expect(decoded).toEqual(t.map(normalize));
        expect(encodeTuple(decoded)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('orders encodings like the tuples', () => {
    fc.assert(
      fc.property(arbTuple, arbTuple, (a, b) => {
        expect(compareBytes(encodeTuple(a), encodeTuple(b))).toBe(compareTuples(a, b));
      }),
      { numRuns: 3000 },
    );
  });

  it('orders tuples that share a prefix', () => {
    fc.assert(
      fc.property(arbTuple, arbTuple, arbTuple, (p, a, b) => {
        const x = [...p, ...a];
        const y = [...p, ...b];
        expect(compareBytes(encodeTuple(x), encodeTuple(y))).toBe(compareTuples(x, y));
      }),
      { numRuns: 1000 },
    );
  });

  const arbHostile = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc
      .array(
        fc.constantFrom(
          0x00,
          0x01,
          0x02,
          0x05,
          0x0c,
          0x13,
          0x14,
          0x15,
          0x1c,
          0x21,
          0x26,
          0x30,
          0xff,
          0x80,
          0xc3,
        ),
        {
          maxLength: 40,
        },
      )
      .map((a) => Uint8Array.from(a)),
    fc.tuple(arbTuple, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean()).map(([t, at, byte, cut]) => {
      const b = encodeTuple(t);
      if (b.length === 0) return b;
      if (cut) return b.subarray(0, at % b.length);
      b[at % b.length] = byte;
      return b;
    }),
  );

  it('decodes hostile bytes to a canonical tuple or throws a TesseraError', () => {
    fc.assert(
      fc.property(arbHostile, (bytes) => {
        let decoded: TupleElement[];
        try {
          decoded = decodeTuple(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(TesseraError);
          return;
        }
        // Whatever decodes has exactly one encoding: these very bytes.
        expect(toHex(encodeTuple(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: 5000 },
    );
  });
});
