/** Store keys of the coordinator's records (ARCHITECTURE.md table, seeds 000/001). */
import { encodeKey, keyPrefix } from './core-stand-in.ts';
import type { PeerIdString } from './env.ts';

/** `M, clock, origin` -> CBOR message frame. Sorts in the log's total order. */
export const messageKey = (clock: number, origin: PeerIdString): Uint8Array =>
  encodeKey('M', [clock, origin]);

/** Every M key with clock >= `clock` sorts at or after this. */
export const messageClockStart = (clock: number): Uint8Array => keyPrefix('M', [clock]);

/** Prefix of every M key. */
export const messagePrefix = (): Uint8Array => keyPrefix('M', []);

/** `S, 'N', cluster, nodeId` -> CBOR node state. */
export const nodeStateKey = (cluster: string, nodeId: PeerIdString): Uint8Array =>
  encodeKey('S', ['N', cluster, nodeId]);

/** Prefix of every node state of a cluster. */
export const nodeStatePrefix = (cluster: string): Uint8Array => keyPrefix('S', ['N', cluster]);

/** `J, jobId` -> CBOR job. */
export const jobKey = (id: string): Uint8Array => encodeKey('J', [id]);

/** Prefix of every job. */
export const jobPrefix = (): Uint8Array => keyPrefix('J', []);

/** The first key after every key that starts with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  throw new RangeError('prefix has no end');
}

/** The first key after `key` (key + 0x00). */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}

/** Unsigned byte order. */
export function compareKeys(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}
