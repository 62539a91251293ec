/**
 * The hash tree anti-entropy descends below a slot. A key's *key hash* is a
 * 32-bit hash of its bytes; the slot index orders entries by (key hash,
 * key), so every node of the tree is one contiguous range of the index.
 * Level 0 is the whole slot; each level splits a node into `bucketFanout`
 * children by the next 4 bits of the key hash, down to `bucketLevelsMax`.
 */
import { Hash64 } from './bytes.ts';
import { bucketLevelsMax } from './limits.ts';

/** Children per tree node. */
export const bucketFanout = 16;
const hashSpace = 2 ** 32;

/** The 32-bit key hash (the first 4 bytes of the 64-bit hash of the key bytes). */
export function keyHash(key: Uint8Array): number {
  const digest = new Hash64().update(key).digest();
  return new DataView(digest.buffer, digest.byteOffset, 4).getUint32(0);
}

/** Buckets at `level` (16^level). */
export function bucketCount(level: number): number {
  return bucketFanout ** level;
}

/** The key-hash range [low, high) of bucket `bucket` at `level`. */
export function bucketRange(level: number, bucket: number): { low: number; high: number } {
  const width = hashSpace / bucketCount(level);
  return { low: bucket * width, high: (bucket + 1) * width };
}

/** The bucket at `level` a key hash falls in. */
export function bucketOf(hash: number, level: number): number {
  return Math.floor(hash / (hashSpace / bucketCount(level)));
}

/** True when (`level`, `bucket`) names a tree node. */
export function isBucket(level: unknown, bucket: unknown): boolean {
  return (
    typeof level === 'number' &&
    Number.isInteger(level) &&
    level >= 0 &&
    level <= bucketLevelsMax &&
    typeof bucket === 'number' &&
    Number.isInteger(bucket) &&
    bucket >= 0 &&
    bucket < bucketCount(level)
  );
}
