/**
 * TEMPORARY stand-in for @tessera/core's encodeValue/decodeValue until core's
 * index exports them (value.ts exists there, unexported so far). Delete this
 * file and import from '@tessera/core' then.
 */

import { MalformedValueError } from '@tessera/core';
import { Decoder, Encoder } from 'cbor-x';

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
