/** Store keys of the coordinator's records (ARCHITECTURE.md table, seeds 000/001). */
import { encodeKey, keyPrefix } from '@tessera/core';
import { prefixEnd } from '@tessera/storage';
import type { PeerIdString } from './env.ts';

/** `M, clock, origin` -> CBOR message frame. Sorts in the log's total order. */
export const messageKey = (clock: number, origin: PeerIdString): Uint8Array =>
  encodeKey('M', [clock, origin]);

/** Every M key with clock >= `clock` sorts at or after this. */
export const messageClockStart = (clock: number): Uint8Array => keyPrefix('M', [clock]);

/** Prefix of every M key. */
export const messagePrefix = (): Uint8Array => keyPrefix('M', []);

/** The first key after every M key. */
export const messageEnd = (): Uint8Array => prefixEnd(messagePrefix())!;

/** `S, 'N', cluster, nodeId` -> CBOR node state. */
export const nodeStateKey = (cluster: string, nodeId: PeerIdString): Uint8Array =>
  encodeKey('S', ['N', cluster, nodeId]);

/** `J, jobId` -> CBOR job. */
export const jobKey = (id: string): Uint8Array => encodeKey('J', [id]);

/** Prefix of every job. */
export const jobPrefix = (): Uint8Array => keyPrefix('J', []);

/** The first key after `key` (key + 0x00). */
export function keySuccessor(key: Uint8Array): Uint8Array {
  const next = new Uint8Array(key.length + 1);
  next.set(key);
  return next;
}
