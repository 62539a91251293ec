/**
 * Record values: standard CBOR (RFC 8949) through cbor-x, configured so the
 * output is readable by any CBOR decoder (no cbor-x records, packing, bundled
 * strings or shared references) and so hostile input can only produce a
 * `TesseraError`. docs/spec/values.md has the rules.
 *
 * Two paths: plain values (objects, arrays, strings, numbers, …) go through
 * value-fast.ts, which checks while it encodes or decodes; everything else,
 * and every input the fast path does not accept, goes through cbor-x with the
 * value-scan.ts check (the general path). Both give the same bytes and values.
 */

import { Decoder, Encoder, type Options } from 'cbor-x';
import { InvalidArgumentError, LimitExceededError, MalformedValueError, TesseraError } from './errors.ts';
import { valueBytesMax } from './limits.ts';
import { decodeFast, decodeFastCanonical, encodeFast, leave } from './value-fast.ts';
import { needsMapFlag, scanValue } from './value-scan.ts';

// useTag259ForMaps is read by cbor-x but missing from its Options type.
const encoderOptions: Options & { useTag259ForMaps: boolean } = {
  useRecords: false,
  pack: false,
  bundleStrings: false,
  structuredClone: false,
  // Uint8Array is a plain byte string; cbor-x tags it 64 in Node unless told not to.
  tagUint8Array: false,
  // A Map is a plain CBOR map, not wrapped in tag 259.
  useTag259ForMaps: false,
  // The shortest map header ("preferred serialization"): {a: 1} is a1 61 61 01.
  variableMapSize: true,
};
const encoder = new Encoder(encoderOptions);

// Maps become plain objects: the common case, and the fastest path in cbor-x.
const objectDecoder = new Decoder({ useRecords: false, mapsAsObjects: true, copyBuffers: true });
// For values with a non-string or `__proto__` map key, which an object would lose.
const mapDecoder = new Decoder({ useRecords: false, mapsAsObjects: false, copyBuffers: true });

/**
 * Encodes a value as standard CBOR. Plain objects and Maps become CBOR maps,
 * arrays arrays, Uint8Array byte strings, bigint integers (tags 2/3 beyond 64
 * bits), Date tag 1, Set tag 258, typed arrays RFC 8746 tags. Throws
 * `InvalidArgumentError` for what standard CBOR cannot carry (functions,
 * symbols, Error, RegExp, cyclic structures, nesting past `valueDepthMax`,
 * strings with a lone surrogate) and `LimitExceededError` past
 * `valueBytesMax`.
 */
export function encodeValue(value: unknown): Uint8Array {
  const fast = encodeFast(value);
  if (fast !== leave) {
    if (fast.length > valueBytesMax)
      throw new LimitExceededError('valueBytesMax', valueBytesMax, fast.length);
    return fast;
  }
  let bytes: Uint8Array;
  try {
    const out = encoder.encode(value);
    // In Node cbor-x returns a Buffer; hand out a plain Uint8Array in every runtime.
    bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    throw new InvalidArgumentError(`value cannot be encoded as CBOR: ${(error as Error)?.message ?? error}`);
  }
  if (bytes.length > valueBytesMax)
    throw new LimitExceededError('valueBytesMax', valueBytesMax, bytes.length);
  try {
    scanValue(bytes);
  } catch (error) {
    // A type outside standard CBOR (an Error or RegExp becomes tag 27, a cbor-x Tag or a
    // globally added cbor-x extension any tag), nesting too deep, or a lone surrogate that
    // cbor-x wrote as invalid UTF-8.
    throw new InvalidArgumentError(`value is not standard CBOR: ${(error as Error).message}`);
  }
  return bytes;
}

/**
 * Decodes one standard CBOR item that fills `bytes` exactly. Maps whose keys
 * are all text strings (none `__proto__`) become plain objects; other maps
 * become `Map`s. Throws `TruncatedInputError`, `MalformedValueError`,
 * `TrailingBytesError`, `InvalidUtf8Error` (with the byte offset) or
 * `LimitExceededError`, and nothing else, whatever the bytes.
 */
export function decodeValue<T = unknown>(bytes: Uint8Array): T {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('decodeValue needs a Uint8Array');
  if (bytes.length > valueBytesMax)
    throw new LimitExceededError('valueBytesMax', valueBytesMax, bytes.length);
  const src = plainView(bytes);
  const fast = decodeFast(src);
  if (fast !== leave) return fast as T;
  const flags = scanValue(src);
  try {
    if (flags & needsMapFlag) return mapsToObjects(mapDecoder.decode(src)) as T;
    return objectDecoder.decode(src) as T;
  } catch (error) {
    if (error instanceof TesseraError) throw error;
    // The scan accepted the framing, so this is content cbor-x refuses (e.g. a bignum tag on a non-byte string).
    throw new MalformedValueError(`CBOR content not accepted: ${(error as Error)?.message ?? error}`, 0, {
      cause: error,
    });
  }
}

/**
 * The value of `bytes` when they are exactly the encoding `encodeValue`
 * writes for it (shortest integers and lengths, definite lengths, text keys
 * each once, no tags); otherwise undefined, whether or not `decodeValue`
 * would accept them. For storing bytes received from elsewhere as they are:
 * bytes this accepts carry nothing their value does not show.
 */
export function decodeCanonical<T = unknown>(bytes: Uint8Array): T | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length > valueBytesMax) return undefined;
  const value = decodeFastCanonical(plainView(bytes));
  return value === leave ? undefined : (value as T);
}

/** Byte strings are copied with the input's own class; a plain view makes them plain Uint8Arrays. */
function plainView(bytes: Uint8Array): Uint8Array {
  return bytes.constructor === Uint8Array
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Turns every Map whose keys are all strings (none `__proto__`) into a plain object. */
function mapsToObjects(value: unknown): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = mapsToObjects(value[i]);
    return value;
  }
  if (value instanceof Map) {
    let plain = true;
    for (const [k, v] of value) {
      value.set(k, mapsToObjects(v));
      if (typeof k !== 'string' || k === '__proto__') plain = false;
    }
    return plain ? Object.fromEntries(value) : value;
  }
  if (value instanceof Set) return new Set(Array.from(value, mapsToObjects));
  return value;
}
