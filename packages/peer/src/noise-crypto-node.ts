/**
 * Noise's default Node crypto, with each session key turned into a
 * `KeyObject` once instead of on every message.
 *
 * For messages of 1200 bytes and more, noise encrypts with
 * `createCipheriv(key: Uint8Array, …)`, and Node imports the raw key into a
 * new KeyObject on every call: 22 µs per 2 KB message against 7 µs with a
 * KeyObject made once (node 24, this machine), and 4% of a peer's CPU under
 * quorum writes. A noise session keeps one key array per direction for its
 * life, so the KeyObject is cached per array. Smaller messages and the
 * handshake stay on noise's own code. Node only (`node:crypto`).
 */
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { ICryptoInterface } from '@chainsafe/libp2p-noise';
import { defaultCrypto } from '@chainsafe/libp2p-noise/crypto';

const CHACHA_POLY1305 = 'chacha20-poly1305';
const TAG_BYTES = 16;
/** Below this noise's WebAssembly implementation is faster (noise's own threshold). */
const NATIVE_BYTES_MIN = 1200;

const keyObjects = new WeakMap<Uint8Array, KeyObject>();

function keyObjectOf(k: Uint8Array): KeyObject {
  let key = keyObjects.get(k);
  if (key === undefined) {
    key = createSecretKey(k);
    keyObjects.set(k, key);
  }
  return key;
}

/** The chunks of a Uint8ArrayList (noise passes lists for messages read or written in parts). */
function chunksOf(data: Uint8Array | Iterable<Uint8Array>): Iterable<Uint8Array> {
  return data instanceof Uint8Array ? [data] : data;
}

export const cachedKeyNoiseCrypto: ICryptoInterface = {
  ...defaultCrypto,
  chaCha20Poly1305Encrypt(plaintext, nonce, ad, k) {
    if (plaintext.byteLength < NATIVE_BYTES_MIN) {
      return defaultCrypto.chaCha20Poly1305Encrypt(plaintext, nonce, ad, k);
    }
    const cipher = createCipheriv(CHACHA_POLY1305, keyObjectOf(k), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(ad, { plaintextLength: plaintext.byteLength });
    const parts: Uint8Array[] = [];
    for (const chunk of chunksOf(plaintext)) parts.push(cipher.update(chunk));
    parts.push(cipher.final(), cipher.getAuthTag());
    return Buffer.concat(parts, plaintext.byteLength + TAG_BYTES);
  },
  chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst) {
    if (ciphertext.byteLength < NATIVE_BYTES_MIN) {
      return defaultCrypto.chaCha20Poly1305Decrypt(ciphertext, nonce, ad, k, dst);
    }
    const textBytes = ciphertext.byteLength - TAG_BYTES;
    const decipher = createDecipheriv(CHACHA_POLY1305, keyObjectOf(k), nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(ad, { plaintextLength: textBytes });
    decipher.setAuthTag(ciphertext.subarray(textBytes));
    const parts: Uint8Array[] = [];
    if (ciphertext instanceof Uint8Array) parts.push(decipher.update(ciphertext.subarray(0, textBytes)));
    else for (const chunk of ciphertext.sublist(0, textBytes)) parts.push(decipher.update(chunk));
    parts.push(decipher.final());
    return parts.length === 2 && parts[1]!.byteLength === 0 ? parts[0]! : Buffer.concat(parts, textBytes);
  },
};
