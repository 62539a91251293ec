import { Double, decodeKey, decodeValue, encodeKey, encodeValue, Uuid } from '@tessera/core';
import { expect, it } from 'vitest';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(' ');

it('encodes and decodes keys in Chromium with the same bytes as Node', () => {
  expect(navigator.userAgent).toContain('Chrome');
  const key = encodeKey('O', ['db', 'users', 42]);
  expect(hex(key)).toBe('4f 11 02 64 62 00 02 75 73 65 72 73 00 15 2a');
  const elements = [
    'é\u0000😀',
    -5551212,
    2n ** 60n,
    new Double(1),
    Uuid.parse('123e4567-e89b-12d3-a456-426614174000'),
    [null],
  ];
  expect(decodeKey(encodeKey('I', elements, { valueType: 2 }))).toEqual({
    category: 'I',
    version: 1,
    valueType: 2,
    elements,
  });
});

it('encodes and decodes values in Chromium as standard CBOR', () => {
  expect(hex(encodeValue({ a: 1 }))).toBe('a1 61 61 01');
  const value = { bytes: new Uint8Array([0, 1]), list: [1.5, 'x', null], map: new Map([[1, 'one']]) };
  const bytes = encodeValue(value);
  expect(bytes.constructor).toBe(Uint8Array);
  expect(decodeValue(bytes)).toEqual(value);
});
