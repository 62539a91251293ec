/**
 * A one-pass check of CBOR bytes that runs before cbor-x sees them, so that
 * cbor-x only ever decodes one well-formed item of standard CBOR: no
 * cbor-x extension tags (records, packed values, shared references that can
 * build cycles), no reserved encodings, no trailing bytes, bounded depth,
 * valid UTF-8 text. It walks headers only and never materialises values.
 *
 * `decodeValue` runs it only when its fast path (value-fast.ts) leaves, and
 * `encodeValue` only on cbor-x's output for values outside that path, so
 * it is the general, not the common, check.
 */

import {
  InvalidUtf8Error,
  LimitExceededError,
  MalformedValueError,
  TrailingBytesError,
  TruncatedInputError,
} from './errors.ts';
import { valueDepthMax } from './limits.ts';

/**
 * Tags a value may carry: standard date/time (0, 1), bignums (2, 3), typed
 * arrays (RFC 8746: 64–87), sets (258) and the self-describe marker (55799).
 */
export function isAllowedTag(tag: number): boolean {
  return tag <= 3 || (tag >= 64 && tag <= 87) || tag === 258 || tag === 55799;
}

/** Set in scan's result when some map has a key that is not a text string, or is `__proto__`. */
export const needsMapFlag = 1;

// Saved state of the enclosing levels; depth is bounded, so these never grow.
const savedRemaining = new Int32Array(valueDepthMax + 2);
const savedIsMap = new Uint8Array(valueDepthMax + 2);

// Arguments are capped here so they stay small integers: anything this large is longer than
// any input (scanned inputs are at most valueBytesMax) and is not an allowed tag.
const argCap = 0x3fff_ffff;

/**
 * Checks that `b` is exactly one well-formed, allowed CBOR item. Throws a
 * `DecodeError` with the offset of the first bad byte, or
 * `LimitExceededError` past `valueDepthMax`. Returns flags (`needsMapFlag`).
 */
export function scanValue(b: Uint8Array): number {
  const end = b.length;
  let flags = 0;
  let p = 0;
  let depth = 0;
  // The current level lives in locals, enclosing levels in the saved arrays. `remaining` is
  // the count of items left in a definite-length container, or -1 - items seen in an
  // indefinite one, so in a map the next item is a key exactly when
  // (remaining ^ (remaining >> 31)) is even.
  let remaining = 1;
  let isMap = false;
  for (;;) {
    // Close every finished container.
    while (remaining === 0) {
      if (depth === 0) {
        if (p !== end) throw new TrailingBytesError(p);
        return flags;
      }
      depth--;
      remaining = savedRemaining[depth]!;
      isMap = savedIsMap[depth] === 1;
    }
    if (p >= end) throw new TruncatedInputError('CBOR item ends too early', end);
    const at = p;
    const ib = b[p++]!;
    const major = ib >> 5;
    let arg = ib & 0x1f;
    if (arg >= 24) {
      if (arg === 24) {
        arg = b[p++]!;
      } else if (arg === 25) {
        arg = (b[p]! << 8) | b[p + 1]!;
        p += 2;
      } else if (arg === 26) {
        const hi = b[p]!;
        arg = hi >= 0x40 ? argCap : (hi << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
        p += 4;
      } else if (arg === 27) {
        const hi = b[p]! | b[p + 1]! | b[p + 2]! | b[p + 3]! | (b[p + 4]! & 0xc0);
        arg = hi !== 0 ? argCap : (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
        p += 8;
      } else if (arg === 31) {
        if (major === 7) {
          // A break closes the innermost indefinite-length container (in a map, only after a value).
          if (remaining > 0 || (isMap && (remaining & 1) === 0))
            throw new MalformedValueError('unexpected break', at);
          remaining = 0;
          continue;
        }
        if (major !== 4 && major !== 5)
          throw new MalformedValueError('indefinite length is only supported for arrays and maps', at);
        arg = -1;
      } else {
        throw new MalformedValueError(`reserved additional information ${arg}`, at);
      }
      // A header cut short read past the end; arg is garbage then, so stop here.
      if (p > end) throw new TruncatedInputError('CBOR header ends too early', end);
    }
    if (isMap && ((remaining ^ (remaining >> 31)) & 1) === 0) {
      // A key: only text keys other than __proto__ let the map become a plain object.
      if (major !== 3 || (arg === 9 && isProto(b, p))) flags |= needsMapFlag;
    }
    // This item counts against its container.
    remaining--;
    if (major <= 1) continue;
    if (major <= 3) {
      if (arg > end - p) throw new TruncatedInputError('CBOR string ends too early', end);
      const to = p + arg;
      if (major === 3 && !isUtf8(b, p, to)) throw new InvalidUtf8Error(at);
      p = to;
      continue;
    }
    if (major === 7) {
      // Simple values: only false, true, null, undefined and the three float widths.
      if ((ib & 0x1f) < 20 || ib === 0xf8) throw new MalformedValueError('unsupported CBOR simple value', at);
      continue;
    }
    let items = 1;
    if (major === 6) {
      if (!isAllowedTag(arg)) throw new MalformedValueError(`unsupported CBOR tag ${arg}`, at);
    } else if (arg >= 0) {
      items = major === 5 ? arg * 2 : arg;
      // Every item takes at least one byte: refuse impossible counts before cbor-x allocates for them.
      if (items > end - p) throw new TruncatedInputError('CBOR container ends too early', end);
    } else {
      items = -1;
    }
    if (depth >= valueDepthMax) throw new LimitExceededError('valueDepthMax', valueDepthMax, depth + 1);
    savedRemaining[depth] = remaining;
    savedIsMap[depth] = isMap ? 1 : 0;
    depth++;
    remaining = items;
    isMap = major === 5;
  }
}

/**
 * Whether `b[from, to)` is valid UTF-8 (RFC 3629, the same bytes a fatal
 * `TextDecoder` accepts: no overlong forms, surrogates or code points past
 * U+10FFFF). Pure JS, so short strings pay no native call.
 */
export function isUtf8(b: Uint8Array, from: number, to: number): boolean {
  let i = from;
  while (i < to) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    if (c < 0xc2 || c > 0xf4) return false;
    if (c < 0xe0) {
      if (i + 1 >= to || (b[i + 1]! & 0xc0) !== 0x80) return false;
      i += 2;
      continue;
    }
    const c1 = b[i + 1]!;
    if (c < 0xf0) {
      if (i + 2 >= to) return false;
      // E0 needs A0.., ED stops at 9F (no surrogates).
      if (c1 < (c === 0xe0 ? 0xa0 : 0x80) || c1 > (c === 0xed ? 0x9f : 0xbf) || (b[i + 2]! & 0xc0) !== 0x80)
        return false;
      i += 3;
      continue;
    }
    if (i + 3 >= to) return false;
    // F0 needs 90.., F4 stops at 8F (nothing past U+10FFFF).
    if (
      c1 < (c === 0xf0 ? 0x90 : 0x80) ||
      c1 > (c === 0xf4 ? 0x8f : 0xbf) ||
      (b[i + 2]! & 0xc0) !== 0x80 ||
      (b[i + 3]! & 0xc0) !== 0x80
    )
      return false;
    i += 4;
  }
  return true;
}

const proto = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

function isProto(b: Uint8Array, from: number): boolean {
  for (let i = 0; i < 9; i++) if (b[from + i] !== proto[i]) return false;
  return true;
}
