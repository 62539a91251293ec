/**
 * TEMPORARY stand-ins for @tessera/core functions agreed but not landed yet
 * (encodeKey, encodeValue/decodeValue, keySlot, LamportClock, compareStamps).
 * Same names and behaviour as the agreed API; each goes away, replaced by
 * the core import, as soon as core exports it. Nothing outside this package
 * may import this file.
 */
import { LimitExceededError, MalformedValueError, TesseraError } from '@tessera/core';
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

/** Number of slots in the keyspace. */
export const SLOT_COUNT = 16384;

const crcTable = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[i] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ crcTable[((crc >> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return crc;
}

/** Redis Cluster's CLUSTER KEYSLOT: CRC16-XMODEM with hash tags, & 16383. */
export function keySlot(key: string | Uint8Array): number {
  const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
  const open = bytes.indexOf(0x7b);
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) return crc16(bytes, open + 1, close) & (SLOT_COUNT - 1);
  }
  return crc16(bytes, 0, bytes.length) & (SLOT_COUNT - 1);
}

/** Thrown when a received Lamport clock is further ahead than `clockJumpMax`. */
export class ClockJumpError extends TesseraError {
  constructor(local: number, remote: number, max: number) {
    super(`remote clock ${remote} is more than ${max} ahead of local ${local}`, 'ERR_CLOCK_JUMP');
  }
}

/** A Lamport clock with a bound on how far a received value may move it. */
export class LamportClock {
  #value: number;
  readonly #clockJumpMax: number;
  constructor(initial = 0, options: { clockJumpMax?: number } = {}) {
    this.#value = initial;
    this.#clockJumpMax = options.clockJumpMax ?? 2 ** 40;
  }
  get value(): number {
    return this.#value;
  }
  tick(): number {
    this.#value += 1;
    return this.#value;
  }
  receive(remote: number): number {
    if (!Number.isSafeInteger(remote) || remote < 0)
      throw new ClockJumpError(this.#value, remote, this.#clockJumpMax);
    if (remote - this.#value > this.#clockJumpMax)
      throw new ClockJumpError(this.#value, remote, this.#clockJumpMax);
    this.#value = Math.max(this.#value, remote) + 1;
    return this.#value;
  }
}

/** Total order of (clock, node id) stamps. */
export function compareStamps(
  a: { clock: number; node: string },
  b: { clock: number; node: string },
): -1 | 0 | 1 {
  if (a.clock !== b.clock) return a.clock < b.clock ? -1 : 1;
  if (a.node === b.node) return 0;
  return a.node < b.node ? -1 : 1;
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
