// One definition of key order for the whole stack: core's, so a store and the
// replication digests above it can never disagree on how keys sort.
export { compareBytes } from '@tessera/core';

/**
 * The smallest key greater than every key that starts with `prefix`: the
 * exclusive end of a prefix scan. Trailing 0xFF bytes cannot be incremented,
 * so they are dropped first; `undefined` means no bound (the prefix is empty
 * or all 0xFF, so the range runs to the end of the keyspace).
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  // A fresh array, never `prefix.slice()`, which on a Buffer shares the caller's memory.
  const out = new Uint8Array(end);
  out.set(prefix.subarray(0, end));
  out[end - 1] = prefix[end - 1]! + 1;
  return out;
}

/**
 * A plain `Uint8Array` copy of exactly the view's bytes. Not `bytes.slice()`:
 * on a Node `Buffer` that returns a view sharing the caller's memory.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}
