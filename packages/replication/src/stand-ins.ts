/**
 * TEMPORARY stand-ins for @tessera/core functions agreed but not landed yet
 * (encodeKey/keyPrefix, encodeValue/decodeValue).
 * Same names and behaviour as the agreed API; each goes away, replaced by
 * the core import, as soon as core exports it. Nothing outside this package
 * may import this file.
 */
import { LimitExceededError, MalformedValueError } from '@tessera/core';
import { Encoder } from 'cbor-x';

// Standard CBOR only: no record extension, no typed-array tags, plain maps as objects.
const cbor = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
});

/** Standard CBOR of `value`. */
export function encodeValue(value: unknown): Uint8Array {
  return cbor.encode(value);
}

/** Decodes one standard CBOR item; throws `MalformedValueError`. */
export function decodeValue<T = unknown>(bytes: Uint8Array): T {
  try {
    return cbor.decode(bytes) as T;
  } catch (cause) {
    throw new MalformedValueError(cause instanceof Error ? cause.message : 'bad CBOR', 0, { cause });
  }
}

/** Tuple elements this stand-in encodes (a subset of core's). */
export type StandInElement = string | number | Uint8Array;

/** FoundationDB tuple encoding of strings, byte strings and non-negative safe integers, after a 2-byte header. */
export function encodeKey(
  category: 'S',
  elements: readonly StandInElement[],
  options: { version?: number; valueType?: number } = {},
): Uint8Array {
  const out: number[] = [category.charCodeAt(0), ((options.version ?? 1) << 4) | (options.valueType ?? 1)];
  for (const element of elements) {
    if (typeof element === 'number') {
      if (!Number.isSafeInteger(element) || element < 0)
        throw new LimitExceededError('tupleIntegerMax', 0, element);
      if (element === 0) {
        out.push(0x14);
        continue;
      }
      const bytes: number[] = [];
      for (let rest = element; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
      out.push(0x14 + bytes.length, ...bytes);
      continue;
    }
    const isString = typeof element === 'string';
    const raw = isString ? new TextEncoder().encode(element) : element;
    out.push(isString ? 0x02 : 0x01);
    for (const byte of raw) {
      out.push(byte);
      if (byte === 0) out.push(0xff);
    }
    out.push(0x00);
  }
  return Uint8Array.from(out);
}

/** The bytes every key under `elements` starts with (no terminator after the last element). */
export function keyPrefix(category: 'S', elements: readonly StandInElement[]): Uint8Array {
  return encodeKey(category, elements);
}
