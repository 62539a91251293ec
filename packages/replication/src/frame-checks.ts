/** Field checks shared by frame and store decoding. */

import { SLOT_COUNT } from '@tessera/core';
import { BadFrameError } from './errors.ts';
import { keyBytesMax } from './limits.ts';
import { isBytes } from './record-codec.ts';

export type Bytes = Uint8Array;

export function checkKey(value: unknown, path: string): Bytes {
  if (!isBytes(value) || value.length === 0 || value.length > keyBytesMax) {
    throw new BadFrameError(`${path}: key must be 1..${keyBytesMax} bytes`);
  }
  return value;
}

export function checkSlot(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= SLOT_COUNT) {
    throw new BadFrameError(`${path}: slot must be an integer in 0..${SLOT_COUNT - 1}`);
  }
  return value;
}

/** A page size: an integer in 1..`max`. */
export function checkLimit(value: unknown, max: number, path: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new BadFrameError(`${path}: 1..${max}`);
  }
  return value;
}
