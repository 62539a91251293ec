import { describe, expect, it } from 'vitest';
import { Hash64, toHex } from './bytes.ts';

describe('Hash64', () => {
  it('hashes a string as its UTF-8 bytes, ASCII or not', () => {
    for (const text of ['', 'replica-7', 'A'.repeat(300), 'zoë', '节点-1', 'a\u{1f600}b']) {
      const viaString = new Hash64().updateString(text).updateString('tail').digest();
      const viaBytes = new Hash64()
        .update(new TextEncoder().encode(text))
        .update(new TextEncoder().encode('tail'))
        .digest();
      expect(viaString).toEqual(viaBytes);
    }
  });

  it('hashes a number as its 8 big-endian float64 bytes, hasher after hasher', () => {
    const bytesOf = (n: number) => {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setFloat64(0, n);
      return out;
    };
    const a = new Hash64();
    const b = new Hash64();
    for (const n of [0, 1, 2 ** 53 - 1, -3.5, 1e300]) {
      a.updateNumber(n);
      b.update(bytesOf(n));
    }
    expect(a.digest()).toEqual(b.digest());
    expect(new Hash64().updateNumber(1).digest()).not.toEqual(new Hash64().updateNumber(2).digest());
  });
});

describe('toHex', () => {
  it('gives two lower-case digits per byte', () => {
    expect(toHex(new Uint8Array([]))).toBe('');
    expect(toHex(new Uint8Array([0, 1, 15, 16, 171, 255]))).toBe('00010f10abff');
  });
});
