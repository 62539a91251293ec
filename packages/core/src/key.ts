/**
 * Record keys: a 2-byte header (category letter, then `version << 4 |
 * valueType`) followed by tuple-encoded elements. docs/spec/keys.md has the
 * layout of every category.
 */

import { BadHeaderError, InvalidArgumentError, LimitExceededError, TruncatedInputError } from './errors.ts';
import { keyBytesMax } from './limits.ts';
import { decodeTuple, finishWrite, startWrite, type TupleElement, writeElements } from './tuple.ts';

/**
 * Record categories: D database, C collection, O object, I index (data);
 * N node, M message, S state, J job (coordinator).
 */
export type KeyCategory = 'D' | 'C' | 'O' | 'I' | 'N' | 'M' | 'S' | 'J';

/** Every category, in byte order. */
export const keyCategories: readonly KeyCategory[] = ['C', 'D', 'I', 'J', 'M', 'N', 'O', 'S'];

/** The key format version this code writes. Versions 1–7 are valid; 0 and 8–15 are reserved. */
export const KEY_VERSION = 1;
/** Largest valid key version (the high nibble's top bit stays clear). */
export const KEY_VERSION_MAX = 7;
/** Value type: the value is standard CBOR. The default for every category. */
export const VALUE_TYPE_CBOR = 1;
/** Value type of an `I` record for a primary index. */
export const INDEX_PRIMARY = 1;
/** Value type of an `I` record for a secondary index. */
export const INDEX_SECONDARY = 2;

/** Header fields for `encodeKey`, `keyPrefix` and `keyRange`. */
export interface KeyHeaderOptions {
  /** 1–7; default `KEY_VERSION`. */
  readonly version?: number;
  /** 1–15; default `VALUE_TYPE_CBOR` (for `I` records: `INDEX_PRIMARY` or `INDEX_SECONDARY`). */
  readonly valueType?: number;
}

/** A decoded key. */
export interface DecodedKey {
  readonly category: KeyCategory;
  readonly version: number;
  readonly valueType: number;
  readonly elements: TupleElement[];
}

/** A scan range: `start` inclusive, `end` exclusive, compared as unsigned bytes. */
export interface KeyRange {
  readonly start: Uint8Array;
  readonly end: Uint8Array;
}

// Indexed by byte: true for the eight category letters.
const isCategoryByte = new Uint8Array(256);
for (const c of keyCategories) isCategoryByte[c.charCodeAt(0)] = 1;

function headerByte(category: KeyCategory, options: KeyHeaderOptions | undefined): number {
  if (typeof category !== 'string' || category.length !== 1 || !isCategoryByte[category.charCodeAt(0)]) {
    throw new InvalidArgumentError(`unknown key category: ${String(category).slice(0, 16)}`);
  }
  const version = options?.version ?? KEY_VERSION;
  const valueType = options?.valueType ?? VALUE_TYPE_CBOR;
  if (!Number.isInteger(version) || version < 1 || version > KEY_VERSION_MAX) {
    throw new InvalidArgumentError(`key version must be 1..${KEY_VERSION_MAX}, got ${version}`);
  }
  if (!Number.isInteger(valueType) || valueType < 1 || valueType > 15) {
    throw new InvalidArgumentError(`value type must be 1..15, got ${valueType}`);
  }
  return (version << 4) | valueType;
}

/**
 * Encodes a key. Throws `InvalidArgumentError` for an unknown category, a
 * reserved version or value type, or an element that is not a
 * `TupleElement`, and `LimitExceededError` past `keyBytesMax`.
 */
export function encodeKey(
  category: KeyCategory,
  elements: readonly TupleElement[],
  options?: KeyHeaderOptions,
): Uint8Array {
  const header = headerByte(category, options);
  const w = startWrite();
  try {
    w.buf[0] = category.charCodeAt(0);
    w.buf[1] = header;
    w.pos = 2;
    writeElements(w, elements);
    return w.buf.slice(0, w.pos);
  } finally {
    finishWrite(w);
  }
}

/**
 * Decodes a key. Throws a `DecodeError` subclass with the byte offset
 * (`BadHeaderError`, `TruncatedInputError`, `UnknownTypeCodeError`,
 * `InvalidUtf8Error`, `MalformedKeyError`) or `LimitExceededError`; never
 * anything else for any bytes.
 */
export function decodeKey(bytes: Uint8Array): DecodedKey {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('decodeKey needs a Uint8Array');
  if (bytes.length > keyBytesMax) throw new LimitExceededError('keyBytesMax', keyBytesMax, bytes.length);
  if (bytes.length < 2) throw new TruncatedInputError('a key needs a 2-byte header', bytes.length);
  const c = bytes[0]!;
  if (!isCategoryByte[c]) throw new BadHeaderError(`unknown key category byte 0x${c.toString(16)}`, 0);
  const h = bytes[1]!;
  const version = h >> 4;
  const valueType = h & 0x0f;
  if (version === 0 || version > KEY_VERSION_MAX)
    throw new BadHeaderError(`reserved key version ${version}`, 1);
  if (valueType === 0) throw new BadHeaderError('reserved value type 0', 1);
  return {
    category: String.fromCharCode(c) as KeyCategory,
    version,
    valueType,
    elements: decodeTuple(bytes, 2),
  };
}

/**
 * The bytes every key of this category and header starts with when its
 * elements begin with `elements`. Elements end in a terminator or have a
 * fixed width, so `['db', 'user']` is not a prefix of `['db', 'users']`.
 */
export function keyPrefix(
  category: KeyCategory,
  elements: readonly TupleElement[],
  options?: KeyHeaderOptions,
): Uint8Array {
  return encodeKey(category, elements, options);
}

/**
 * The range holding the key with exactly `elements` and every key that
 * extends it: `start` is the prefix, `end` the prefix followed by 0xFF (no
 * element starts with 0xFF).
 */
export function keyRange(
  category: KeyCategory,
  elements: readonly TupleElement[],
  options?: KeyHeaderOptions,
): KeyRange {
  const start = keyPrefix(category, elements, options);
  const end = new Uint8Array(start.length + 1);
  end.set(start);
  end[start.length] = 0xff;
  return { start, end };
}

/** The range of every key in a category, whatever its version and value type. */
export function categoryRange(category: KeyCategory): KeyRange {
  headerByte(category, undefined);
  const c = category.charCodeAt(0);
  return { start: Uint8Array.of(c), end: Uint8Array.of(c + 1) };
}
