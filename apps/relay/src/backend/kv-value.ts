/**
 * The value of a plain key-value record: the CBOR map `{ v: bytes, exp?: uint }`.
 *
 * TODO(core value codec): switch to `encodeValue`/`decodeValue` from
 * @tessera/core once it lands; this stand-in writes the same standard CBOR
 * for this one shape and reads it strictly.
 */
import { MalformedValueError } from '@tessera/core';

const KEY_V = [0x61, 0x76]; // text(1) "v"
const KEY_EXP = [0x63, 0x65, 0x78, 0x70]; // text(3) "exp"

function header(major: number, n: number): number[] {
  if (n < 24) return [(major << 5) | n];
  if (n < 0x100) return [(major << 5) | 24, n];
  if (n < 0x10000) return [(major << 5) | 25, n >> 8, n & 0xff];
  if (n < 0x1_0000_0000) return [(major << 5) | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  return [
    (major << 5) | 27,
    hi >>> 24,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  ];
}

export function encodeKvRecord(value: Uint8Array, expiresAtMs?: number): Uint8Array {
  const hasExp = expiresAtMs !== undefined;
  const head = [0xa0 | (hasExp ? 2 : 1), ...KEY_V, ...header(2, value.length)];
  const tail = hasExp ? [...KEY_EXP, ...header(0, expiresAtMs)] : [];
  const out = new Uint8Array(head.length + value.length + tail.length);
  out.set(head, 0);
  out.set(value, head.length);
  out.set(tail, head.length + value.length);
  return out;
}

function readUint(b: Uint8Array, pos: number, major: number): { n: number; next: number } {
  const first = b[pos];
  if (first === undefined || first >> 5 !== major)
    throw new MalformedValueError('unexpected CBOR item in kv record', pos);
  const info = first & 0x1f;
  if (info < 24) return { n: info, next: pos + 1 };
  const width = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : info === 27 ? 8 : 0;
  if (width === 0 || pos + 1 + width > b.length)
    throw new MalformedValueError('bad CBOR length in kv record', pos);
  let n = 0;
  for (let i = 0; i < width; i++) n = n * 256 + b[pos + 1 + i]!;
  if (!Number.isSafeInteger(n)) throw new MalformedValueError('CBOR integer too large in kv record', pos);
  return { n, next: pos + 1 + width };
}

function expectBytes(b: Uint8Array, pos: number, expected: readonly number[]): number {
  for (let i = 0; i < expected.length; i++) {
    if (b[pos + i] !== expected[i]) throw new MalformedValueError('unexpected map key in kv record', pos + i);
  }
  return pos + expected.length;
}

export function decodeKvRecord(b: Uint8Array): { value: Uint8Array; expiresAtMs?: number } {
  const first = b[0];
  if (first !== 0xa1 && first !== 0xa2)
    throw new MalformedValueError('kv record is not a 1- or 2-entry map', 0);
  let pos = expectBytes(b, 1, KEY_V);
  const len = readUint(b, pos, 2);
  if (len.next + len.n > b.length) throw new MalformedValueError('kv record value truncated', len.next);
  const value = b.subarray(len.next, len.next + len.n);
  pos = len.next + len.n;
  if (first === 0xa1) {
    if (pos !== b.length) throw new MalformedValueError('trailing bytes in kv record', pos);
    return { value };
  }
  pos = expectBytes(b, pos, KEY_EXP);
  const exp = readUint(b, pos, 0);
  if (exp.next !== b.length) throw new MalformedValueError('trailing bytes in kv record', exp.next);
  return { value, expiresAtMs: exp.n };
}
