/**
 * TEMPORARY stand-in for the agreed @tessera/core API (encodeKey, keyPrefix,
 * encodeValue, decodeValue) until core exports them.
 * Only what the coordinator needs: non-negative integers and strings as tuple
 * elements. Delete this file and import from '@tessera/core' once it exists.
 */

import { MalformedValueError } from '@tessera/core';
import { Decoder, Encoder } from 'cbor-x';

export type KeyCategory = 'D' | 'C' | 'O' | 'I' | 'N' | 'M' | 'S' | 'J';
type Element = number | string;

const utf8 = new TextEncoder();

function pushElement(out: number[], element: Element): void {
  if (typeof element === 'string') {
    out.push(0x02);
    for (const b of utf8.encode(element)) {
      out.push(b);
      if (b === 0) out.push(0xff);
    }
    out.push(0x00);
    return;
  }
  if (element === 0) {
    out.push(0x14);
    return;
  }
  const bytes: number[] = [];
  let n = element;
  while (n > 0) {
    bytes.unshift(n % 256);
    n = Math.floor(n / 256);
  }
  out.push(0x14 + bytes.length, ...bytes);
}

export function keyPrefix(category: KeyCategory, elements: readonly Element[]): Uint8Array {
  const out = [category.charCodeAt(0), 0x11];
  for (const e of elements) pushElement(out, e);
  return Uint8Array.from(out);
}

export function encodeKey(category: KeyCategory, elements: readonly Element[]): Uint8Array {
  return keyPrefix(category, elements);
}

const encoder = new Encoder({
  useRecords: false,
  mapsAsObjects: true,
  tagUint8Array: false,
  variableMapSize: true,
});
const decoder = new Decoder({ useRecords: false, mapsAsObjects: true });

export function encodeValue(value: unknown): Uint8Array {
  return encoder.encode(value);
}

export function decodeValue<T = unknown>(bytes: Uint8Array): T {
  try {
    return decoder.decode(bytes) as T;
  } catch (cause) {
    throw new MalformedValueError('not well-formed CBOR', 0, { cause });
  }
}
