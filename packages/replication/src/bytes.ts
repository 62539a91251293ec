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

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

const utf8 = new TextEncoder();

/**
 * An incremental 64-bit hash (two 32-bit lanes, cyrb53-style mixing).
 * Digests only detect divergence between honest owners; a lying peer can at
 * worst cause needless repair, so a cryptographic hash is not needed here.
 */
export class Hash64 {
  #h1 = 0xdeadbeef;
  #h2 = 0x41c6ce57;
  update(bytes: Uint8Array): this {
    let h1 = this.#h1;
    let h2 = this.#h2;
    for (let i = 0; i < bytes.length; i++) {
      const byte = bytes[i]!;
      h1 = Math.imul(h1 ^ byte, 2654435761);
      h2 = Math.imul(h2 ^ byte, 1597334677);
    }
    // The length separates ("ab","c") from ("a","bc").
    h1 = Math.imul(h1 ^ bytes.length, 2246822507);
    h2 = Math.imul(h2 ^ bytes.length, 3266489909);
    this.#h1 = h1;
    this.#h2 = h2;
    return this;
  }
  updateString(text: string): this {
    return this.update(utf8.encode(text));
  }
  updateNumber(value: number): this {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value);
    return this.update(bytes);
  }
  digest(): Uint8Array {
    let h1 = this.#h1;
    let h2 = this.#h2;
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    const out = new Uint8Array(8);
    const view = new DataView(out.buffer);
    view.setUint32(0, h1 >>> 0);
    view.setUint32(4, h2 >>> 0);
    return out;
  }
}
