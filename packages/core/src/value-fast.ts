/**
 * The fast path of the value codec: a one-pass encoder and decoder for the
 * plain subset of values (null, undefined, booleans, numbers, strings,
 * `Uint8Array`, arrays, plain objects with string keys) that check as they
 * go, so the common value needs no second pass over its bytes.
 *
 * Both write and read exactly what cbor-x does with value.ts's options (the
 * tests compare them byte for byte and value for value), and both *leave*
 * (return `leave`) on anything else: a `Map`, `Set`, `Date`, bigint, class
 * instance, tag, 8-byte integer, half float, indefinite length, non-text or
 * `__proto__` map key, lone surrogate, malformed or truncated input. Then
 * value.ts runs the general path: cbor-x plus the value-scan.ts check, which
 * also produces the typed error. Leaving is always safe; the fast path only
 * ever accepts what the general path would accept, with the same result.
 */

import { InvalidArgumentError } from './errors.ts';
import { valueBytesMax, valueDepthMax } from './limits.ts';
import { isUtf8 } from './value-scan.ts';

/** Returned (and thrown internally) when a value or input is outside the fast path. */
export const leave: unique symbol = Symbol('leave');

// --- encoding ---------------------------------------------------------------

// Results are views into a shared chunk, handed out once and never written again (cbor-x's
// own scheme), so no copy is made; a fresh chunk starts when less than chunkSpareMin is left.
const chunkBytes = 8192;
const chunkSpareMin = 2048;
let target = new Uint8Array(chunkBytes);
let targetView = new DataView(target.buffer);
let position = 0;
let start = 0;
// A getter that encodes while we encode would write into our chunk: nested calls go general.
let encoding = false;
const textEncoder = new TextEncoder();

/**
 * Encodes `value` as cbor-x would with value.ts's options, or returns
 * `leave`. Throws `InvalidArgumentError` for nesting past `valueDepthMax`
 * (which also stops cycles) and for a string with a lone surrogate.
 */
export function encodeFast(value: unknown): Uint8Array | typeof leave {
  if (encoding) return leave;
  start = position;
  if (target.length - position < chunkSpareMin) newChunk(chunkBytes);
  encoding = true;
  try {
    writeItem(value, 0);
  } catch (error) {
    position = start;
    if (error instanceof InvalidArgumentError) throw error;
    // `leave`, or a getter that threw: the general path reruns and reports it.
    return leave;
  } finally {
    encoding = false;
  }
  const bytes = target.subarray(start, position);
  // A chunk grown for a big value is not shared on: small values would each pin all of it.
  if (target.length > chunkBytes) position = target.length;
  return bytes;
}

function newChunk(size: number): void {
  const next = new Uint8Array(size);
  next.set(target.subarray(start, position));
  position -= start;
  start = 0;
  target = next;
  targetView = new DataView(next.buffer);
}

function makeRoom(bytes: number): void {
  const needed = position - start + bytes;
  // Past the limit the general path measures the whole value and reports it.
  if (needed > valueBytesMax + 16) throw leave;
  newChunk(Math.max(chunkBytes, needed * 2));
}

function writeHead(major: number, n: number): void {
  if (n < 24) target[position++] = major | n;
  else if (n < 0x100) {
    target[position++] = major | 24;
    target[position++] = n;
  } else if (n < 0x10000) {
    target[position++] = major | 25;
    target[position++] = n >> 8;
    target[position++] = n & 0xff;
  } else {
    target[position++] = major | 26;
    targetView.setUint32(position, n);
    position += 4;
  }
}

function writeItem(value: unknown, depth: number): void {
  // Enough for any header or scalar; strings and byte strings ask for more themselves.
  if (target.length - position < 16) makeRoom(16);
  switch (typeof value) {
    case 'string':
      writeText(value);
      return;
    case 'number':
      writeNumber(value);
      return;
    case 'boolean':
      target[position++] = value ? 0xf5 : 0xf4;
      return;
    case 'undefined':
      target[position++] = 0xf7;
      return;
    case 'object': {
      if (value === null) {
        target[position++] = 0xf6;
        return;
      }
      const kind = (value as { constructor?: unknown }).constructor;
      if (kind === Object) {
        if (depth >= valueDepthMax) tooDeep();
        // cbor-x's variableMapSize writer: own enumerable string keys, in order.
        const keys = Object.keys(value);
        const values = Object.values(value);
        const n = keys.length;
        writeHead(0xa0, n);
        for (let i = 0; i < n; i++) {
          writeText(keys[i]!);
          writeItem(values[i], depth + 1);
        }
        return;
      }
      if (kind === Array && Array.isArray(value)) {
        if (depth >= valueDepthMax) tooDeep();
        const n = value.length;
        writeHead(0x80, n);
        for (let i = 0; i < n; i++) writeItem(value[i], depth + 1);
        return;
      }
      if (kind === Uint8Array) {
        const bytes = value as Uint8Array;
        const n = bytes.length;
        if (target.length - position < n + 5) makeRoom(n + 5);
        writeHead(0x40, n);
        target.set(bytes, position);
        position += n;
        return;
      }
      throw leave;
    }
    default:
      throw leave;
  }
}

/** cbor-x's number rules, including its quirks (-0 is the integer 0, no float32/16). */
function writeNumber(v: number): void {
  if (v >>> 0 === v) writeHead(0x00, v);
  else if (v >> 0 === v) {
    if (v >= -0x18) target[position++] = 0x1f - v;
    else if (v >= -0x100) {
      target[position++] = 0x38;
      target[position++] = ~v;
    } else if (v >= -0x10000) {
      target[position++] = 0x39;
      targetView.setUint16(position, ~v);
      position += 2;
    } else {
      target[position++] = 0x3a;
      targetView.setUint32(position, ~v);
      position += 4;
    }
  } else if (v < 0 && v >= -0x1_0000_0000 && Math.floor(v) === v) {
    target[position++] = 0x3a;
    targetView.setUint32(position, -1 - v);
    position += 4;
  } else {
    target[position++] = 0xfb;
    targetView.setFloat64(position, v);
    position += 8;
  }
}

function tooDeep(): never {
  throw new InvalidArgumentError(`value nests deeper than valueDepthMax (${valueDepthMax}) or is cyclic`);
}

function loneSurrogate(): never {
  throw new InvalidArgumentError('value has a string with a lone surrogate, which UTF-8 cannot carry');
}

const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
const loneSurrogatePattern = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function writeText(s: string): void {
  const n = s.length;
  if (target.length - position < n * 3 + 5) makeRoom(n * 3 + 5);
  if (n < 0x40) {
    // Written in JS like cbor-x does for short strings; the header is guessed from the
    // UTF-16 length and moved if the UTF-8 length needs another width.
    const guess = n < 0x18 ? 1 : 2;
    let q = position + guess;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) target[q++] = c;
      else if (c < 0x800) {
        target[q++] = (c >> 6) | 0xc0;
        target[q++] = (c & 0x3f) | 0x80;
      } else if ((c & 0xf800) === 0xd800) {
        const low = s.charCodeAt(i + 1);
        if (c >= 0xdc00 || (low & 0xfc00) !== 0xdc00) loneSurrogate();
        c = 0x10000 + ((c & 0x3ff) << 10) + (low & 0x3ff);
        i++;
        target[q++] = (c >> 18) | 0xf0;
        target[q++] = ((c >> 12) & 0x3f) | 0x80;
        target[q++] = ((c >> 6) & 0x3f) | 0x80;
        target[q++] = (c & 0x3f) | 0x80;
      } else {
        target[q++] = (c >> 12) | 0xe0;
        target[q++] = ((c >> 6) & 0x3f) | 0x80;
        target[q++] = (c & 0x3f) | 0x80;
      }
    }
    const length = q - position - guess;
    const width = length < 0x18 ? 1 : 2;
    if (width !== guess) target.copyWithin(position + width, position + guess, q);
    writeHead(0x60, length);
    position += length;
    return;
  }
  // Longer strings: the platform encoder (what cbor-x uses too) writes after room for the
  // widest header, then the bytes move back to meet the real one.
  if (isWellFormed ? !isWellFormed.call(s) : loneSurrogatePattern.test(s)) loneSurrogate();
  const length = textEncoder.encodeInto(s, target.subarray(position + 5)).written;
  const width = length < 0x18 ? 1 : length < 0x100 ? 2 : length < 0x10000 ? 3 : 5;
  if (width !== 5) target.copyWithin(position + width, position + 5, position + 5 + length);
  writeHead(0x60, length);
  position += length;
}

// --- decoding ---------------------------------------------------------------

const empty: Uint8Array = new Uint8Array(0);
let src = empty;
let at = 0;
let end = 0;
const float64 = new Float64Array(1);
const float32 = new Float32Array(1);
const float64Bytes = new Uint8Array(float64.buffer);
const float32Bytes = new Uint8Array(float32.buffer);
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const fromCharCode = String.fromCharCode;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Decodes `bytes` (a plain `Uint8Array`) as cbor-x would with value.ts's
 * object decoder, or returns `leave`. Never throws.
 */
export function decodeFast(bytes: Uint8Array): unknown {
  strict = false;
  return decodeWith(bytes);
}

/**
 * As `decodeFast`, but also returns `leave` for anything but the one
 * encoding this module writes for the value: an integer or length in more
 * bytes than it needs, or a map with a key twice (which would hide the
 * first value from every decoder that keeps the last). Bytes this accepts
 * can be stored as they are in place of their value's own encoding.
 */
export function decodeFastCanonical(bytes: Uint8Array): unknown {
  strict = true;
  try {
    return decodeWith(bytes);
  } finally {
    strict = false;
  }
}

/** Whether the decode in progress refuses non-canonical forms (see `decodeFastCanonical`). */
let strict = false;

function decodeWith(bytes: Uint8Array): unknown {
  src = bytes;
  at = 0;
  end = bytes.length;
  try {
    const value = readItem(0);
    return at === end ? value : leave;
  } catch {
    // `leave`, or anything unforeseen: the general path decides either way.
    return leave;
  } finally {
    src = empty;
  }
}

/** Whether `writeNumber` writes `v` as an integer rather than a float64. */
function writtenAsInteger(v: number): boolean {
  return v >>> 0 === v || v >> 0 === v || (v < 0 && v >= -0x1_0000_0000 && Math.floor(v) === v);
}

function readArg(info: number): number {
  if (info < 24) return info;
  if (info === 24) {
    if (at + 1 > end) throw leave;
    const v = src[at++]!;
    if (strict && v < 24) throw leave;
    return v;
  }
  if (info === 25) {
    if (at + 2 > end) throw leave;
    const v = (src[at]! << 8) | src[at + 1]!;
    at += 2;
    if (strict && v < 0x100) throw leave;
    return v;
  }
  if (info === 26) {
    if (at + 4 > end) throw leave;
    const v = src[at]! * 0x100_0000 + ((src[at + 1]! << 16) | (src[at + 2]! << 8) | src[at + 3]!);
    at += 4;
    if (strict && v < 0x10000) throw leave;
    return v;
  }
  // 8-byte integers (cbor-x makes bigints), indefinite lengths and reserved values.
  throw leave;
}

function readItem(depth: number): unknown {
  if (at >= end) throw leave;
  const ib = src[at++]!;
  const info = ib & 0x1f;
  switch (ib >> 5) {
    case 0:
      return readArg(info);
    case 1:
      return -1 - readArg(info);
    case 2: {
      const n = readArg(info);
      if (n > end - at) throw leave;
      const from = at;
      at += n;
      return src.slice(from, at);
    }
    case 3:
      return readText(readArg(info));
    case 4: {
      if (depth >= valueDepthMax) throw leave;
      const n = readArg(info);
      // Every item takes a byte: no allocation for counts the input cannot hold.
      if (n > end - at) throw leave;
      const array = new Array(n);
      for (let i = 0; i < n; i++) array[i] = readItem(depth + 1);
      return array;
    }
    case 5: {
      if (depth >= valueDepthMax) throw leave;
      const n = readArg(info);
      if (n > (end - at) / 2) throw leave;
      const object: Record<string, unknown> = {};
      for (let i = 0; i < n; i++) {
        if (at >= end) throw leave;
        const kb = src[at++]!;
        if (kb >> 5 !== 3) throw leave;
        const key = kb < 0x70 && kb > 0x60 ? readKey(kb & 0x1f) : readText(readArg(kb & 0x1f));
        if (key === '__proto__') throw leave;
        if (strict && Object.hasOwn(object, key)) throw leave;
        object[key] = readItem(depth + 1);
      }
      return object;
    }
    case 6:
      throw leave;
    default:
      switch (ib) {
        case 0xf4:
          return false;
        case 0xf5:
          return true;
        case 0xf6:
          return null;
        case 0xf7:
          return undefined;
        case 0xfa:
          // This module writes every non-integer as a float64.
          if (strict) throw leave;
          if (at + 4 > end) throw leave;
          for (let i = 0; i < 4; i++) float32Bytes[littleEndian ? 3 - i : i] = src[at + i]!;
          at += 4;
          return float32[0];
        case 0xfb:
          if (at + 8 > end) throw leave;
          for (let i = 0; i < 8; i++) float64Bytes[littleEndian ? 7 - i : i] = src[at + i]!;
          at += 8;
          if (strict && writtenAsInteger(float64[0]!)) throw leave;
          return float64[0];
        default:
          throw leave;
      }
  }
}

// Map keys repeat from value to value: short ASCII keys are looked up by their bytes, which
// saves building (and V8 internalising) the same string again.
const keyCacheSize = 1024;
const keyCacheStrings: string[] = new Array(keyCacheSize).fill('');
const keyCacheBytes = new Uint8Array(keyCacheSize * 16);
const keyCacheLengths = new Uint8Array(keyCacheSize);

/** A map key of 1–15 bytes (its length fits in the initial byte). */
function readKey(n: number): string {
  if (n > end - at) throw leave;
  const b = src;
  const p = at;
  let hash = n;
  let high = 0;
  for (let i = 0; i < n; i++) {
    const c = b[p + i]!;
    high |= c;
    hash = (hash * 31 + c) | 0;
  }
  if (high >= 0x80) return readText(n);
  const slot = (hash ^ (hash >>> 10)) & (keyCacheSize - 1);
  const base = slot * 16;
  if (keyCacheLengths[slot] === n) {
    let i = 0;
    while (i < n && keyCacheBytes[base + i] === b[p + i]) i++;
    if (i === n) {
      at = p + n;
      return keyCacheStrings[slot]!;
    }
  }
  const key = readText(n);
  keyCacheLengths[slot] = n;
  keyCacheBytes.set(b.subarray(p, p + n), base);
  keyCacheStrings[slot] = key;
  return key;
}

function readText(n: number): string {
  if (n > end - at) throw leave;
  const b = src;
  const p = at;
  if (n < 32) {
    let high = 0;
    for (let i = 0; i < n; i++) high |= b[p + i]!;
    if (high < 0x80) {
      at = p + n;
      // ASCII: build the string straight from the bytes, unrolled like cbor-x's
      // shortStringInJS; no intermediate array or native call.
      switch (n) {
        case 0:
          return '';
        case 1:
          return fromCharCode(b[p]!);
        case 2:
          return fromCharCode(b[p]!, b[p + 1]!);
        case 3:
          return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!);
        case 4:
          return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
        case 5:
          return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
        case 6:
          return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
        case 7:
          return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!, b[p + 6]!);
        case 8:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
          );
        case 9:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
          );
        case 10:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
          );
        case 11:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
            b[p + 10]!,
          );
        case 12:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
            b[p + 10]!,
            b[p + 11]!,
          );
        case 13:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
            b[p + 10]!,
            b[p + 11]!,
            b[p + 12]!,
          );
        case 14:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
            b[p + 10]!,
            b[p + 11]!,
            b[p + 12]!,
            b[p + 13]!,
          );
        case 15:
          return fromCharCode(
            b[p]!,
            b[p + 1]!,
            b[p + 2]!,
            b[p + 3]!,
            b[p + 4]!,
            b[p + 5]!,
            b[p + 6]!,
            b[p + 7]!,
            b[p + 8]!,
            b[p + 9]!,
            b[p + 10]!,
            b[p + 11]!,
            b[p + 12]!,
            b[p + 13]!,
            b[p + 14]!,
          );
        default: {
          const units = new Array<number>(n);
          for (let i = 0; i < n; i++) units[i] = b[p + i]!;
          return fromCharCode.apply(null, units);
        }
      }
    }
  }
  if (!isUtf8(b, p, p + n)) throw leave;
  at = p + n;
  return utf8.decode(b.subarray(p, p + n));
}
