import { randomBytes } from 'node:crypto';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { cachedKeyNoiseCrypto } from './noise-crypto-node.ts';

/** Plain Uint8Array copies, so Buffers and arrays compare by content. */
const flat = (bytes: Uint8Array | { subarray(): Uint8Array }) =>
  new Uint8Array(bytes instanceof Uint8Array ? bytes : bytes.subarray());

describe('cachedKeyNoiseCrypto', () => {
  const k = randomBytes(32);
  const ad = randomBytes(8);

  it.each([16, 1199, 1200, 4096, 65_519])('agrees with noise default crypto both ways (%i bytes)', (size) => {
    for (let n = 0; n < 3; n++) {
      const nonce = new Uint8Array(12);
      nonce[4] = n;
      const plaintext = randomBytes(size);
      const sealed = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
      expect(sealed).toEqual(flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)));
      expect(flat(defaultCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k))).toEqual(
        new Uint8Array(plaintext),
      );
      expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k))).toEqual(
        new Uint8Array(plaintext),
      );
    }
  });

  it('takes messages in parts (chunk lists) as noise passes them', () => {
    const nonce = new Uint8Array(12);
    const plaintext = randomBytes(5000);
    const parts = new Uint8ArrayList(
      plaintext.subarray(0, 1000),
      plaintext.subarray(1000, 3001),
      plaintext.subarray(3001),
    );
    const sealed = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(parts, nonce, ad, k));
    expect(sealed).toEqual(flat(defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k)));
    const sealedParts = new Uint8ArrayList(
      sealed.subarray(0, 7),
      sealed.subarray(7, 4999),
      sealed.subarray(4999),
    );
    expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(sealedParts, nonce, ad, k))).toEqual(
      new Uint8Array(plaintext),
    );
  });

  it('keeps keys apart and refuses a tampered message', () => {
    const nonce = new Uint8Array(12);
    const plaintext = randomBytes(2048);
    const other = randomBytes(32);
    const sealed = flat(cachedKeyNoiseCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k));
    expect(() => cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, other)).toThrow();
    const tampered = new Uint8Array(sealed);
    tampered[100]! ^= 1;
    expect(() => cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(tampered, nonce, ad, k)).toThrow();
    expect(flat(cachedKeyNoiseCrypto.chaCha20Poly1305Decrypt(sealed, nonce, ad, k))).toEqual(
      new Uint8Array(plaintext),
    );
  });
});
