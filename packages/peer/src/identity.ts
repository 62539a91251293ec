/**
 * The peer's libp2p identity lives in its own store, so a restarted peer
 * comes back with the same id. The record is `S, 'identity'`; its value is a
 * CBOR byte string holding the key in libp2p's protobuf form.
 */
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys';
import type { PrivateKey } from '@libp2p/interface';
import { encodeKey } from '@tessera/core';
import type { Store } from '@tessera/storage';
import { CorruptIdentityError } from './errors.ts';

/** The identity record's key, `S, 'identity'`. */
export const IDENTITY_KEY: Uint8Array = encodeKey('S', ['identity']);

/** Loads the peer's private key from `store`, creating and storing an Ed25519 key on first use. */
export async function loadOrCreateIdentity(store: Store): Promise<PrivateKey> {
  const stored = await store.get(IDENTITY_KEY);
  if (stored !== undefined) {
    try {
      return privateKeyFromProtobuf(decodeByteString(stored));
    } catch (err) {
      // Replacing it would silently change the peer's id; the operator decides.
      throw new CorruptIdentityError({ cause: err });
    }
  }
  const key = await generateKeyPair('Ed25519');
  await store.put(IDENTITY_KEY, encodeByteString(privateKeyToProtobuf(key)), { durable: true });
  return key;
}

// CBOR major type 2 (byte string). The key is under 64 KiB for every key type libp2p has.
function encodeByteString(bytes: Uint8Array): Uint8Array {
  const n = bytes.byteLength;
  const head = n < 24 ? [0x40 | n] : n < 256 ? [0x58, n] : [0x59, n >> 8, n & 0xff];
  const out = new Uint8Array(head.length + n);
  out.set(head);
  out.set(bytes, head.length);
  return out;
}

function decodeByteString(bytes: Uint8Array): Uint8Array {
  const first = bytes[0];
  let length: number;
  let offset: number;
  if (first !== undefined && first >= 0x40 && first < 0x58) {
    length = first & 0x1f;
    offset = 1;
  } else if (first === 0x58 && bytes.byteLength >= 2) {
    length = bytes[1] as number;
    offset = 2;
  } else if (first === 0x59 && bytes.byteLength >= 3) {
    length = ((bytes[1] as number) << 8) | (bytes[2] as number);
    offset = 3;
  } else {
    throw new Error('not a CBOR byte string');
  }
  if (bytes.byteLength !== offset + length) throw new Error('CBOR byte string length mismatch');
  return bytes.subarray(offset);
}
