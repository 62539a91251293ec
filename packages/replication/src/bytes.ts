/** Small byte helpers: order, equality, a fast non-cryptographic 64-bit hash. */

/** Unsigned lexicographic order, like the Store's key order. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compareBytes(a, b) === 0;
}

/** Two hex digits per byte value: `toHex` runs per op (per-key locks, maps keyed by key). */
const hexOfByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += hexOfByte[bytes[i]!]!;
  return out;
}

const utf8 = new TextEncoder();
/** Scratch for `updateString` and `updateNumber` (hashing is synchronous, so one buffer serves every hasher). */
let textBytes = new Uint8Array(256);
const numberBytes = new Uint8Array(8);
const numberView = new DataView(numberBytes.buffer);

/**
 * An incremental 64-bit hash (two 32-bit lanes, cyrb53-style mixing).
 * Digests only detect divergence between honest owners; a lying peer can at
 * worst cause needless repair, so a cryptographic hash is not needed here.
 */
export class Hash64 {
  #h1 = 0xdeadbeef;
  #h2 = 0x41c6ce57;
  update(bytes: Uint8Array): this {
    return this.#mix(bytes, bytes.length);
  }
  /** Hashes the first `length` bytes of `bytes` as one part. */
  #mix(bytes: Uint8Array, length: number): this {
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = 0; i < length; i++) {
      const byte = bytes[i]!;
      h1 = Math.imul(h1 ^ byte, 2654435761);
      h2 = Math.imul(h2 ^ byte, 1597334677);
    }
    // The length separates ("ab","c") from ("a","bc").
    h1 = Math.imul(h1 ^ length, 2246822507);
    h2 = Math.imul(h2 ^ length, 3266489909);
    this.#h1 = h1;
    this.#h2 = h2;
    return this;
  }
  /** Hashes the text's UTF-8 bytes. */
  updateString(text: string): this {
    // Encoded into one scratch buffer: an array per string (replica ids, per record write) showed in profiles.
    if (textBytes.length < text.length * 3) textBytes = new Uint8Array(text.length * 3);
    return this.#mix(textBytes, utf8.encodeInto(text, textBytes).written);
  }
  /** Hashes the number's 8 big-endian IEEE 754 bytes. */
  updateNumber(value: number): this {
    numberView.setFloat64(0, value);
    return this.update(numberBytes);
  }
  digest(): Uint8Array {
    let h1 = this.#h1;
    let h2 = this.#h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    // Big-endian h1 then h2, written byte by byte: a DataView per digest cost more than the hash.
    const out = new Uint8Array(8);
    out[0] = h1 >>> 24;
    out[1] = h1 >>> 16;
    out[2] = h1 >>> 8;
    out[3] = h1;
    out[4] = h2 >>> 24;
    out[5] = h2 >>> 16;
    out[6] = h2 >>> 8;
    out[7] = h2;
    return out;
  }
}
