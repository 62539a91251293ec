/**
 * Key -> slot, bit-for-bit Redis Cluster's `CLUSTER KEYSLOT`: CRC16-XMODEM
 * (poly 0x1021, init 0, no reflection, no final xor) of the routing bytes,
 * masked to 14 bits, with Redis hash tags. See docs/spec/slots.md.
 */
import { InvalidArgumentError } from './errors.ts';

/** Number of slots the keyspace is cut into (Redis Cluster's 16384). */
export const SLOT_COUNT = 16384;
/** Highest slot number. */
export const SLOT_MAX = SLOT_COUNT - 1;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

// Table-driven MSB-first CRC: one lookup per byte instead of eight shifts.
const table = new Uint16Array(256);
for (let n = 0; n < 256; n++) {
  let c = n << 8;
  for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
  table[n] = c & 0xffff;
}

function crcBytes(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ table[((crc >>> 8) ^ bytes[i]!) & 0xff]!) & 0xffff;
  return crc;
}

/**
 * CRC over the UTF-8 bytes of `s[start, end)` without materialising them.
 * ASCII costs one comparison per char; other code points are expanded to
 * their UTF-8 bytes inline. Lone surrogates become U+FFFD (EF BF BD), as
 * TextEncoder and Buffer.from encode them, so keySlot(str) always equals
 * keySlot(new TextEncoder().encode(str)).
 */
function crcString(s: string, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      crc = ((crc << 8) ^ table[((crc >>> 8) ^ c) & 0xff]!) & 0xffff;
      continue;
    }
    if (c < 0x800) {
      crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0xc0 | (c >> 6))) & 0xff]!) & 0xffff;
      crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff]!) & 0xffff;
      continue;
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < end ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        i++;
        c = 0x10000 + ((c - 0xd800) << 10) + (next - 0xdc00);
        crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0xf0 | (c >> 18))) & 0xff]!) & 0xffff;
        crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | ((c >> 12) & 0x3f))) & 0xff]!) & 0xffff;
        crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | ((c >> 6) & 0x3f))) & 0xff]!) & 0xffff;
        crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff]!) & 0xffff;
        continue;
      }
      c = 0xfffd;
    }
    crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0xe0 | (c >> 12))) & 0xff]!) & 0xffff;
    crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | ((c >> 6) & 0x3f))) & 0xff]!) & 0xffff;
    crc = ((crc << 8) ^ table[((crc >>> 8) ^ (0x80 | (c & 0x3f))) & 0xff]!) & 0xffff;
  }
  return crc;
}

/** CRC16-XMODEM of the bytes (a string is hashed as its UTF-8 bytes). `crc16('123456789')` is 0x31c3. */
export function crc16(data: string | Uint8Array): number {
  if (typeof data === 'string') return crcString(data, 0, data.length);
  if (data instanceof Uint8Array) return crcBytes(data, 0, data.length);
  throw new InvalidArgumentError('crc16 takes a string or a Uint8Array');
}

/**
 * The slot (0..16383) of a routing key, identical to Redis Cluster's
 * `CLUSTER KEYSLOT`. Hash tags: if the key has a `{`, and a `}` after that
 * first `{`, with at least one byte between them, only the bytes between are
 * hashed; otherwise the whole key is. `foo{}{bar}` hashes the whole key;
 * `foo{{bar}}zap` hashes `{bar`. Strings are hashed as UTF-8; because `{` and
 * `}` are ASCII and never occur inside a multi-byte UTF-8 sequence, finding
 * them by code unit finds the same bytes.
 */
export function keySlot(key: string | Uint8Array): number {
  if (typeof key === 'string') {
    const open = key.indexOf('{');
    if (open !== -1) {
      const close = key.indexOf('}', open + 1);
      if (close > open + 1) return crcString(key, open + 1, close) & SLOT_MAX;
    }
    return crcString(key, 0, key.length) & SLOT_MAX;
  }
  if (!(key instanceof Uint8Array)) throw new InvalidArgumentError('keySlot takes a string or a Uint8Array');
  const open = key.indexOf(OPEN_BRACE);
  if (open !== -1) {
    const close = key.indexOf(CLOSE_BRACE, open + 1);
    if (close > open + 1) return crcBytes(key, open + 1, close) & SLOT_MAX;
  }
  return crcBytes(key, 0, key.length) & SLOT_MAX;
}

/** True when `n` is an integer slot number in 0..16383. */
export function isSlot(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= SLOT_MAX;
}
