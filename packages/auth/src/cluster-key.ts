/**
 * The cluster key: one Ed25519 key pair (WebCrypto) whose private half signs
 * membership certificates and capability tokens, and whose public half every
 * peer is configured with. The private half is exported only as PKCS#8
 * bytes for the operator to store; nothing here logs or prints it.
 */
import { InvalidArgumentError } from '@tessera/core';
import { fromBase64url, toBase64url } from './base64url.ts';
import { CredentialMalformedError } from './errors.ts';

const ED25519 = { name: 'Ed25519' } as const;
/** Length of a raw Ed25519 public key, bytes. */
export const CLUSTER_PUBLIC_KEY_BYTES = 32;
/** Length of the key id carried in credentials (a SHA-256 prefix of the public key), bytes. */
export const KEY_ID_BYTES = 8;

async function keyIdOf(publicKey: Uint8Array): Promise<Uint8Array> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicKey as Uint8Array<ArrayBuffer>));
  return digest.subarray(0, KEY_ID_BYTES);
}

/** Verifies signatures of one cluster key; what every peer holds. */
export class ClusterVerifier {
  /** Raw 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** SHA-256 prefix of the public key, carried in credentials to tell "other cluster" from "forged". */
  readonly keyId: Uint8Array;
  readonly #key: CryptoKey;

  private constructor(publicKey: Uint8Array, keyId: Uint8Array, key: CryptoKey) {
    this.publicKey = publicKey;
    this.keyId = keyId;
    this.#key = key;
  }

  /** From the raw public key bytes or their base64url text. */
  static async fromPublicKey(publicKey: Uint8Array | string): Promise<ClusterVerifier> {
    const raw = typeof publicKey === 'string' ? fromBase64url(publicKey) : publicKey.slice();
    if (raw.byteLength !== CLUSTER_PUBLIC_KEY_BYTES) {
      throw new CredentialMalformedError(
        `cluster public key must be ${CLUSTER_PUBLIC_KEY_BYTES} bytes, got ${raw.byteLength}`,
      );
    }
    const key = await crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, ED25519, true, [
      'verify',
    ]);
    return new ClusterVerifier(raw, await keyIdOf(raw), key);
  }

  /** The public key as base64url text (what goes in config files and `--cluster-key`). */
  get publicKeyText(): string {
    return toBase64url(this.publicKey);
  }

  /** True when `signature` is this key's Ed25519 signature of `message`. */
  async verify(signature: Uint8Array, message: Uint8Array): Promise<boolean> {
    if (signature.byteLength !== 64) return false;
    return crypto.subtle.verify(
      ED25519,
      this.#key,
      signature as Uint8Array<ArrayBuffer>,
      message as Uint8Array<ArrayBuffer>,
    );
  }
}

/** The cluster's signing key; held by the operator (and a laptop cluster's first peer), never sent anywhere. */
export class ClusterSigner {
  readonly verifier: ClusterVerifier;
  readonly #privateKey: CryptoKey;

  private constructor(verifier: ClusterVerifier, privateKey: CryptoKey) {
    this.verifier = verifier;
    this.#privateKey = privateKey;
  }

  /** A fresh random cluster key. */
  static async generate(): Promise<ClusterSigner> {
    const pair = (await crypto.subtle.generateKey(ED25519, true, ['sign', 'verify'])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey));
    return new ClusterSigner(await ClusterVerifier.fromPublicKey(raw), pair.privateKey);
  }

  /** From the PKCS#8 bytes (or their base64url text) that `exportPrivateKey` produced. */
  static async fromPrivateKey(pkcs8: Uint8Array | string): Promise<ClusterSigner> {
    const bytes = typeof pkcs8 === 'string' ? fromBase64url(pkcs8) : pkcs8;
    let privateKey: CryptoKey;
    try {
      privateKey = await crypto.subtle.importKey('pkcs8', bytes as Uint8Array<ArrayBuffer>, ED25519, true, [
        'sign',
      ]);
    } catch (error) {
      throw new CredentialMalformedError(`not an Ed25519 PKCS#8 private key (${String(error)})`);
    }
    // WebCrypto cannot derive the public half from a private key, but a JWK export carries it.
    const jwk = await crypto.subtle.exportKey('jwk', privateKey);
    if (typeof jwk.x !== 'string') throw new CredentialMalformedError('private key has no public half');
    return new ClusterSigner(await ClusterVerifier.fromPublicKey(fromBase64url(jwk.x)), privateKey);
  }

  /** PKCS#8 bytes of the private key, for the operator's secret store. Never log them. */
  async exportPrivateKey(): Promise<Uint8Array> {
    return new Uint8Array(await crypto.subtle.exportKey('pkcs8', this.#privateKey));
  }

  /** Ed25519 signature of `message`. */
  async sign(message: Uint8Array): Promise<Uint8Array> {
    if (!(message instanceof Uint8Array)) throw new InvalidArgumentError('message must be bytes');
    return new Uint8Array(
      await crypto.subtle.sign(ED25519, this.#privateKey, message as Uint8Array<ArrayBuffer>),
    );
  }
}
