/** Keys and values of the crash test, shared by the child that writes them and the parent that checks them. */
const encoder = new TextEncoder();

export const counterKey = encoder.encode('counter');

export function putKey(id: string): Uint8Array {
  return encoder.encode(`p/${id}`);
}

export function batchKey(id: string, index: number): Uint8Array {
  return encoder.encode(`b/${id}/${index}`);
}

/** A value that depends on the key, 16–1040 bytes, so a torn or misplaced write shows. */
export function valueFor(key: Uint8Array): Uint8Array {
  let h = 0x811c9dc5;
  for (const b of key) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  const value = new Uint8Array(16 + (h % 1025));
  for (let i = 0; i < value.length; i++) {
    h = Math.imul(h ^ i, 0x01000193) >>> 0;
    value[i] = h & 0xff;
  }
  return value;
}
