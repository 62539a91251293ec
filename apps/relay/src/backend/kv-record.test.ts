import { decodeKey, encodeValue, MalformedValueError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import {
  decodeKvRecord,
  encodeKvRecord,
  expiryKey,
  objectKey,
  parseExpiryKey,
  userKeyOf,
} from './kv-record.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('kv records', () => {
  it('pins the value bytes: CBOR {v: bytes, exp?: uint}', () => {
    // a2 (map of 2) 61 76 ("v") 42 6869 (bytes "hi") 63 657870 ("exp") 19 03e8 (1000)
    expect(hex(encodeKvRecord(Buffer.from('hi'), 1000))).toBe('a261764268696365787019' + '03e8');
    expect(hex(encodeKvRecord(Buffer.from('hi')))).toBe('a16176426869');
  });

  it('round-trips values from Buffer slices and expiry times', () => {
    const big = Buffer.from('xxhello-worldxx');
    const slice = big.subarray(2, 13);
    expect(decodeKvRecord(encodeKvRecord(slice))).toEqual({
      value: new Uint8Array(Buffer.from('hello-world')),
    });
    const at = Date.now() + 123_456;
    expect(decodeKvRecord(encodeKvRecord(slice, at)).expiresAtMs).toBe(at);
  });

  it('rejects values of another shape with a typed error', () => {
    for (const bad of [
      encodeValue('x'),
      encodeValue({ v: 'text' }),
      encodeValue({ v: new Uint8Array(1), exp: 'no' }),
    ]) {
      expect(() => decodeKvRecord(bad)).toThrow(MalformedValueError);
    }
  });

  it("lays keys out as objects of db's 'kv' collection, with an expiry index", () => {
    const key = Buffer.from([0, 1, 0xff]);
    const ok = objectKey(3, key);
    expect(decodeKey(ok)).toMatchObject({ category: 'O', elements: [3, 'kv', new Uint8Array(key)] });
    expect(Buffer.from(userKeyOf(ok))).toEqual(key);
    const ek = expiryKey(3, 1_700_000_000_000, key);
    expect(decodeKey(ek)).toMatchObject({ category: 'I', valueType: 2 });
    expect(parseExpiryKey(ek)).toEqual({ expiresAtMs: 1_700_000_000_000, key: new Uint8Array(key) });
  });
});
