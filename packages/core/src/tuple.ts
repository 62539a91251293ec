/**
 * The FoundationDB tuple layer (design/tuple.md), the subset Tessera keys use:
 * null, bytes, strings, nested tuples, integers up to 64 bits, doubles,
 * booleans and UUIDs. Comparing two encodings as unsigned bytes gives the
 * order of the tuples, which is what makes prefix and range scans work.
 * docs/spec/keys.md lists every type code with its vector.
 */

import { Double } from './double.ts';
import {
  InvalidArgumentError,
  InvalidUtf8Error,
  LimitExceededError,
  MalformedKeyError,
  TruncatedInputError,
  UnknownTypeCodeError,
} from './errors.ts';
import { keyBytesMax, tupleDepthMax } from './limits.ts';
import { Uuid } from './uuid.ts';

/** One element of a tuple. Integers decode to `number` when safe, else `bigint`. */
export type TupleElement =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | Uuid
  | Double
  | readonly TupleElement[];

/** Tuple type codes (FoundationDB design/tuple.md). */
export const TypeCode = {
  null: 0x00,
  bytes: 0x01,
  string: 0x02,
  nested: 0x05,
  intZero: 0x14,
  double: 0x21,
  false: 0x26,
  true: 0x27,
  uuid: 0x30,
} as const;

const intMin = 0x0c; // 8-byte negative
const intMax = 0x1c; // 8-byte positive
const uint64Max = (1n << 64n) - 1n;
const two32 = 0x1_0000_0000;

/**
 * A reusable output buffer. Encoders write here and copy out once, so a key
 * costs one allocation. Its size is the hard cap: `keyBytesMax`.
 */
class Writer {
  buf = new Uint8Array(keyBytesMax);
  view = new DataView(this.buf.buffer);
  pos = 0;
  busy = false;
}

const shared = new Writer();

/**
 * Takes the shared writer, or a fresh one if an encode is already running
 * (only a getter or Proxy inside the input can cause that). Pair with
 * `finishWrite` in a `finally`.
 */
export function startWrite(): Writer {
  const w = shared.busy ? new Writer() : shared;
  w.busy = true;
  w.pos = 0;
  return w;
}

/** Releases a writer taken with `startWrite`. */
export function finishWrite(w: Writer): void {
  w.busy = false;
}

export type { Writer };

function overflow(needed: number): never {
  throw new LimitExceededError('keyBytesMax', keyBytesMax, needed);
}

/** Appends the encoding of every element of `elements` (a top-level tuple). */
export function writeElements(w: Writer, elements: readonly TupleElement[]): void {
  if (!Array.isArray(elements)) throw new InvalidArgumentError('tuple elements must be an array');
  for (let i = 0; i < elements.length; i++) writeElement(w, elements[i] as TupleElement, 0, false);
}

function writeElement(w: Writer, el: TupleElement, depth: number, nested: boolean): void {
  switch (typeof el) {
    case 'string':
      writeString(w, el);
      return;
    case 'number':
      if (Number.isSafeInteger(el)) writeSafeInt(w, el);
      else writeDouble(w, el);
      return;
    case 'bigint':
      writeBigInt(w, el);
      return;
    case 'boolean':
      ensure(w, 1);
      w.buf[w.pos++] = el ? TypeCode.true : TypeCode.false;
      return;
    case 'object':
      if (el === null) {
        ensure(w, 2);
        w.buf[w.pos++] = TypeCode.null;
        if (nested) w.buf[w.pos++] = 0xff;
        return;
      }
      if (el instanceof Uint8Array) {
        writeBytes(w, el);
        return;
      }
      if (Array.isArray(el)) {
        writeNested(w, el, depth + 1);
        return;
      }
      if (el instanceof Uuid) {
        ensure(w, 17);
        w.buf[w.pos++] = TypeCode.uuid;
        w.buf.set(el.bytes, w.pos);
        w.pos += 16;
        return;
      }
      if (el instanceof Double) {
        writeDouble(w, el.value);
        return;
      }
  }
  throw new InvalidArgumentError(`unsupported tuple element type: ${describe(el)}`);
}

function describe(el: unknown): string {
  if (typeof el !== 'object' || el === null) return typeof el;
  return (el as object).constructor?.name ?? 'object';
}

function ensure(w: Writer, n: number): void {
  if (w.pos + n > w.buf.length) overflow(w.pos + n);
}

function writeNested(w: Writer, list: readonly TupleElement[], depth: number): void {
  if (depth > tupleDepthMax) throw new LimitExceededError('tupleDepthMax', tupleDepthMax, depth);
  ensure(w, 1);
  w.buf[w.pos++] = TypeCode.nested;
  for (let i = 0; i < list.length; i++) writeElement(w, list[i] as TupleElement, depth, true);
  ensure(w, 1);
  w.buf[w.pos++] = 0x00;
}

function writeString(w: Writer, s: string): void {
  const buf = w.buf;
  const cap = buf.length;
  const n = s.length;
  let p = w.pos;
  if (p + n + 2 > cap) overflow(p + n + 2);
  buf[p++] = TypeCode.string;
  for (let i = 0; i < n; i++) {
    let c = s.charCodeAt(i);
    // One check covers the widest case (4 bytes); the exact check runs only near the end.
    if (p + 4 > cap && p + utf8Width(s, i) > cap) overflow(p + utf8Width(s, i));
    if (c < 0x80) {
      if (c === 0) {
        buf[p++] = 0x00;
        buf[p++] = 0xff;
      } else {
        buf[p++] = c;
      }
    } else if (c < 0x800) {
      buf[p++] = 0xc0 | (c >> 6);
      buf[p++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[p++] = 0xe0 | (c >> 12);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    } else {
      const d = c <= 0xdbff && i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (d < 0xdc00 || d > 0xdfff) {
        // TextEncoder would silently write U+FFFD; a key must not change under the caller.
        throw new InvalidArgumentError(`string has a lone surrogate at index ${i}`);
      }
      i++;
      c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
      buf[p++] = 0xf0 | (c >> 18);
      buf[p++] = 0x80 | ((c >> 12) & 0x3f);
      buf[p++] = 0x80 | ((c >> 6) & 0x3f);
      buf[p++] = 0x80 | (c & 0x3f);
    }
  }
  if (p + 1 > cap) overflow(p + 1);
  buf[p++] = 0x00;
  w.pos = p;
}

function utf8Width(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c === 0 ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0xd800 || c > 0xdfff ? 3 : 4;
}

function writeBytes(w: Writer, bytes: Uint8Array): void {
  const buf = w.buf;
  const n = bytes.length;
  let p = w.pos;
  if (p + n + 2 > buf.length) overflow(p + n + 2);
  buf[p++] = TypeCode.bytes;
  for (let i = 0; i < n; i++) {
    const b = bytes[i]!;
    if (b === 0) {
      if (p + 2 > buf.length) overflow(p + 2);
      buf[p++] = 0x00;
      buf[p++] = 0xff;
    } else {
      if (p + 1 > buf.length) overflow(p + 1);
      buf[p++] = b;
    }
  }
  if (p + 1 > buf.length) overflow(p + 1);
  buf[p++] = 0x00;
  w.pos = p;
}

/** Integers: type code 0x14 ± byte count, then the magnitude big-endian, all bits inverted if negative. */
function writeSafeInt(w: Writer, v: number): void {
  ensure(w, 9);
  const buf = w.buf;
  if (v === 0) {
    buf[w.pos++] = TypeCode.intZero; // -0 too: integers have one zero
    return;
  }
  const neg = v < 0;
  const m = neg ? -v : v;
  const len =
    m < 0x100
      ? 1
      : m < 0x1_0000
        ? 2
        : m < 0x100_0000
          ? 3
          : m < two32
            ? 4
            : m < 0x100_0000_0000
              ? 5
              : m < 0x1_0000_0000_0000
                ? 6
                : 7;
  const flip = neg ? 0xff : 0;
  let p = w.pos;
  buf[p++] = TypeCode.intZero + (neg ? -len : len);
  if (len > 4) {
    const hi = Math.floor(m / two32);
    for (let i = len - 5; i >= 0; i--) buf[p++] = ((hi >>> (i * 8)) & 0xff) ^ flip;
    const lo = m >>> 0;
    buf[p++] = (lo >>> 24) ^ flip;
    buf[p++] = ((lo >>> 16) & 0xff) ^ flip;
    buf[p++] = ((lo >>> 8) & 0xff) ^ flip;
    buf[p++] = (lo & 0xff) ^ flip;
  } else {
    for (let i = len - 1; i >= 0; i--) buf[p++] = ((m >>> (i * 8)) & 0xff) ^ flip;
  }
  w.pos = p;
}

function writeBigInt(w: Writer, v: bigint): void {
  if (v >= -9007199254740991n && v <= 9007199254740991n) {
    writeSafeInt(w, Number(v));
    return;
  }
  const neg = v < 0n;
  let m = neg ? -v : v;
  if (m > uint64Max) {
    throw new InvalidArgumentError('tuple integers are limited to 64 bits of magnitude');
  }
  let len = 0;
  for (let t = m; t > 0n; t >>= 8n) len++;
  ensure(w, 1 + len);
  const buf = w.buf;
  const flip = neg ? 0xff : 0;
  buf[w.pos] = TypeCode.intZero + (neg ? -len : len);
  for (let i = len; i >= 1; i--) {
    buf[w.pos + i] = Number(m & 0xffn) ^ flip;
    m >>= 8n;
  }
  w.pos += 1 + len;
}

/**
 * Doubles: IEEE 754 big-endian, sign bit flipped if positive, all bits
 * flipped if negative, so the bytes sort like the numbers. NaN is written as
 * the one canonical quiet NaN so equal keys have equal bytes.
 */
function writeDouble(w: Writer, v: number): void {
  ensure(w, 9);
  const buf = w.buf;
  const p = w.pos + 1;
  buf[w.pos] = TypeCode.double;
  w.view.setFloat64(p, Number.isNaN(v) ? Number.NaN : v);
  if (Number.isNaN(v)) {
    buf[p] = 0x7f;
    buf[p + 1] = 0xf8;
    buf.fill(0, p + 2, p + 8);
  }
  if (buf[p]! & 0x80) {
    for (let i = p; i < p + 8; i++) buf[i] = buf[i]! ^ 0xff;
  } else {
    buf[p] = buf[p]! ^ 0x80;
  }
  w.pos = p + 8;
}

/** Encodes a tuple (a list of elements) on its own, without a key header. */
export function encodeTuple(elements: readonly TupleElement[]): Uint8Array {
  const w = startWrite();
  try {
    writeElements(w, elements);
    return w.buf.slice(0, w.pos);
  } finally {
    finishWrite(w);
  }
}

// Decoder state. Decoding calls no user code, so module-level state is safe.
const empty = new Uint8Array(0);
let src: Uint8Array = empty;
let pos = 0;
let end = 0;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const f64 = new DataView(new ArrayBuffer(8));
const f64Bytes = new Uint8Array(f64.buffer);

/**
 * Decodes the elements in `bytes[start..]`. Errors carry the offset into
 * `bytes`. Integers that fit in a safe integer come back as `number`.
 */
export function decodeTuple(bytes: Uint8Array, start = 0): TupleElement[] {
  if (!(bytes instanceof Uint8Array)) throw new InvalidArgumentError('decodeTuple needs a Uint8Array');
  if (bytes.length > keyBytesMax) throw new LimitExceededError('keyBytesMax', keyBytesMax, bytes.length);
  src = bytes;
  pos = start;
  end = bytes.length;
  try {
    return readElements(false, 0);
  } finally {
    src = empty; // do not keep the caller's buffer alive
  }
}

function readElements(nested: boolean, depth: number): TupleElement[] {
  const out: TupleElement[] = [];
  for (;;) {
    if (pos >= end) {
      if (nested) throw new TruncatedInputError('nested tuple has no end marker', end);
      return out;
    }
    const code = src[pos]!;
    if (code === TypeCode.null && nested) {
      if (pos + 1 < end && src[pos + 1] === 0xff) {
        out.push(null);
        pos += 2;
        continue;
      }
      pos++;
      return out;
    }
    out.push(readElement(code, depth));
  }
}

function readElement(code: number, depth: number): TupleElement {
  const at = pos;
  if (code === TypeCode.string) return readString(at);
  if (code >= intMin && code <= intMax) return readInt(code, at);
  switch (code) {
    case TypeCode.null:
      pos++;
      return null;
    case TypeCode.bytes:
      return readBytes(at);
    case TypeCode.nested:
      if (depth + 1 > tupleDepthMax) throw new LimitExceededError('tupleDepthMax', tupleDepthMax, depth + 1);
      pos++;
      return readElements(true, depth + 1);
    case TypeCode.double:
      return readDouble(at);
    case TypeCode.false:
      pos++;
      return false;
    case TypeCode.true:
      pos++;
      return true;
    case TypeCode.uuid: {
      if (at + 17 > end) throw new TruncatedInputError('UUID needs 16 bytes', end);
      pos = at + 17;
      return new Uuid(src.subarray(at + 1, at + 17));
    }
  }
  throw new UnknownTypeCodeError(code, at);
}

// Results of findTerminator, kept in module state so a string costs no extra allocation.
let termEscaped = false;
let termAscii = true;

/** Returns the index of the 0x00 that ends an escaped run starting at `from` (0x00 0xFF is an escaped 0x00). */
function findTerminator(from: number): number {
  let escaped = false;
  let ascii = true;
  let i = from;
  for (;;) {
    if (i >= end) throw new TruncatedInputError('string or bytes element has no end marker', end);
    const c = src[i]!;
    if (c === 0) {
      if (i + 1 < end && src[i + 1] === 0xff) {
        escaped = true;
        i += 2;
        continue;
      }
      termEscaped = escaped;
      termAscii = ascii;
      return i;
    }
    if (c >= 0x80) ascii = false;
    i++;
  }
}

function unescapeRun(from: number, stop: number): Uint8Array {
  const out = new Uint8Array(stop - from);
  let n = 0;
  for (let i = from; i < stop; i++) {
    const c = src[i]!;
    out[n++] = c;
    if (c === 0) i++; // skip the 0xFF of the escape
  }
  return out.subarray(0, n);
}

function readBytes(at: number): Uint8Array {
  const stop = findTerminator(at + 1);
  pos = stop + 1;
  return termEscaped ? unescapeRun(at + 1, stop).slice() : src.slice(at + 1, stop);
}

function readString(at: number): string {
  const from = at + 1;
  const stop = findTerminator(from);
  const escaped = termEscaped;
  pos = stop + 1;
  if (termAscii && !escaped && stop - from <= 32) {
    let s = '';
    for (let i = from; i < stop; i++) s += String.fromCharCode(src[i]!);
    return s;
  }
  const raw = escaped ? unescapeRun(from, stop) : src.subarray(from, stop);
  try {
    return utf8.decode(raw);
  } catch {
    throw new InvalidUtf8Error(at);
  }
}

function readInt(code: number, at: number): number | bigint {
  const n = code - TypeCode.intZero;
  const neg = n < 0;
  const len = neg ? -n : n;
  const from = at + 1;
  if (from + len > end) throw new TruncatedInputError('integer needs more bytes', end);
  pos = from + len;
  if (len === 0) return 0;
  const flip = neg ? 0xff : 0;
  // A leading zero byte of magnitude would give a second encoding of the same number.
  if ((src[from]! ^ flip) === 0) throw new MalformedKeyError('integer is not minimally encoded', at);
  if (len <= 6) {
    let m = 0;
    for (let i = from; i < from + len; i++) m = m * 256 + (src[i]! ^ flip);
    return neg ? -m : m;
  }
  let hi = 0;
  for (let i = from; i < from + len - 4; i++) hi = hi * 256 + (src[i]! ^ flip);
  const l = from + len - 4;
  const low =
    (src[l]! ^ flip) * 0x100_0000 +
    (((src[l + 1]! ^ flip) << 16) | ((src[l + 2]! ^ flip) << 8) | (src[l + 3]! ^ flip));
  if (hi < 0x20_0000) {
    const m = hi * two32 + low;
    return neg ? -m : m;
  }
  const m = (BigInt(hi) << 32n) + BigInt(low);
  return neg ? -m : m;
}

function readDouble(at: number): number | Double {
  if (at + 9 > end) throw new TruncatedInputError('double needs 8 bytes', end);
  pos = at + 9;
  const positive = (src[at + 1]! & 0x80) !== 0;
  for (let i = 0; i < 8; i++) {
    const b = src[at + 1 + i]!;
    f64Bytes[i] = positive ? (i === 0 ? b ^ 0x80 : b) : b ^ 0xff;
  }
  const v = f64.getFloat64(0);
  if (Number.isNaN(v) && !isCanonicalNaN()) throw new MalformedKeyError('NaN is not the canonical NaN', at);
  // A double that would re-encode as an integer stays wrapped, so encode(decode(b)) is b.
  return Number.isSafeInteger(v) ? new Double(v) : v;
}

function isCanonicalNaN(): boolean {
  if (f64Bytes[0] !== 0x7f || f64Bytes[1] !== 0xf8) return false;
  for (let i = 2; i < 8; i++) if (f64Bytes[i] !== 0) return false;
  return true;
}
