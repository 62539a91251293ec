/**
 * A one-pass check of CBOR bytes that runs before cbor-x sees them, so that
 * cbor-x only ever decodes one well-formed item of standard CBOR: no
 * cbor-x extension tags (records, packed values, shared references that can
 * build cycles), no reserved encodings, no trailing bytes, bounded depth,
 * valid UTF-8 text. It walks headers only and never materialises values.
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

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Saved state of the enclosing levels; depth is bounded, so these never grow.
const savedRemaining = new Int32Array(valueDepthMax + 2); // items left, -1 for indefinite length
const savedIsMap = new Uint8Array(valueDepthMax + 2);
const savedIndex = new Int32Array(valueDepthMax + 2); // items seen, for the key position in maps

const proto = [0x5f, 0x5f, 0x70, 0x72, 0x6f, 0x74, 0x6f, 0x5f, 0x5f]; // "__proto__"

/**
 * Checks that `b` is exactly one well-formed, allowed CBOR item. Throws a
 * `DecodeError` with the offset of the first bad byte, or
 * `LimitExceededError` past `valueDepthMax`. Returns flags (`needsMapFlag`).
 * `checkUtf8` is false only for bytes our own encoder wrote.
 */
export function scanValue(b: Uint8Array, checkUtf8: boolean): number {
  const end = b.length;
  let flags = 0;
  let p = 0;
  let depth = 0;
  // The current level lives in locals; enclosing levels in the saved arrays.
  let remaining = 1;
  let isMap = false;
  let index = 0;
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
      index = savedIndex[depth]!;
    }
    if (p >= end) throw new TruncatedInputError('CBOR item ends too early', end);
    const at = p;
    const ib = b[p]!;
    const major = ib >> 5;
    const info = ib & 0x1f;
    let arg = info;
    p++;
    if (info >= 24) {
      if (info === 24) arg = b[p++]!;
      else if (info === 25) {
        arg = (b[p]! << 8) | b[p + 1]!;
        p += 2;
      } else if (info === 26) {
        arg = b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
        p += 4;
      } else if (info === 27) {
        arg =
          (b[p]! * 0x100_0000 + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!)) * 0x1_0000_0000 +
          (b[p + 4]! * 0x100_0000 + ((b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!));
        p += 8;
      } else if (info === 31) {
        arg = -1;
      } else {
        throw new MalformedValueError(`reserved additional information ${info}`, at);
      }
      // A header cut short read past the end; arg is garbage then, so stop here.
      if (p > end) throw new TruncatedInputError('CBOR header ends too early', end);
      if (arg === -1) {
        if (major === 7) {
          // A break closes the innermost indefinite-length container.
          if (remaining !== -1 || (isMap && (index & 1) !== 0))
            throw new MalformedValueError('unexpected break', at);
          remaining = 0;
          continue;
        }
        if (major !== 4 && major !== 5) {
          throw new MalformedValueError('indefinite length is only supported for arrays and maps', at);
        }
      }
    }
    const isKey = isMap && (index & 1) === 0;
    if (isKey && major !== 3) flags |= needsMapFlag;
    // This item counts against its container.
    if (remaining > 0) remaining--;
    index++;
    switch (major) {
      case 0:
      case 1:
        break;
      case 2:
      case 3:
        if (arg > end - p) throw new TruncatedInputError('CBOR string ends too early', end);
        if (major === 3) {
          if (checkUtf8) checkText(b, p, p + arg, at);
          if (isKey && arg === 9 && isProto(b, p)) flags |= needsMapFlag;
        }
        p += arg;
        break;
      case 4:
      case 5:
      case 6: {
        let items = 1;
        if (major === 6) {
          if (!isAllowedTag(arg)) throw new MalformedValueError(`unsupported CBOR tag ${arg}`, at);
        } else {
          items = arg === -1 ? -1 : major === 5 ? arg * 2 : arg;
          // Every item takes at least one byte: refuse impossible counts before cbor-x allocates for them.
          if (items > end - p) throw new TruncatedInputError('CBOR container ends too early', end);
        }
        if (depth + 1 > valueDepthMax)
          throw new LimitExceededError('valueDepthMax', valueDepthMax, depth + 1);
        savedRemaining[depth] = remaining;
        savedIsMap[depth] = isMap ? 1 : 0;
        savedIndex[depth] = index;
        depth++;
        remaining = items;
        isMap = major === 5;
        index = 0;
        break;
      }
      default:
        // Simple values: only false, true, null, undefined and the three float widths.
        if (info < 20 || info === 24) throw new MalformedValueError('unsupported CBOR simple value', at);
    }
  }
}

function checkText(b: Uint8Array, from: number, to: number, at: number): void {
  let i = from;
  let high = 0;
  for (; i + 4 <= to; i += 4) high |= b[i]! | b[i + 1]! | b[i + 2]! | b[i + 3]!;
  for (; i < to; i++) high |= b[i]!;
  if (high < 0x80) return;
  try {
    utf8.decode(b.subarray(from, to));
  } catch {
    throw new InvalidUtf8Error(at);
  }
}

function isProto(b: Uint8Array, from: number): boolean {
  for (let i = 0; i < 9; i++) if (b[from + i] !== proto[i]) return false;
  return true;
}
