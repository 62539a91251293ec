import { InvalidArgumentError } from '@tessera/core';

/**
 * Bounds on what one client may send. Every one is checked before the bytes
 * it guards are buffered or allocated.
 */

/** Limits of the request parser. */
export interface RespLimits {
  /**
   * Largest bulk string argument, in bytes. Redis allows 512 MiB
   * (`proto-max-bulk-len`); Tessera defaults to 4 MiB: a value must fit the
   * store's `valueBytesMax` (1 MiB by default) and travel to N replicas, and
   * staying above that bound lets an oversized SET get the store's clear
   * error instead of a protocol error that closes the connection.
   */
  readonly bulkBytesMax: number;
  /** Most arguments in one command (the command name counts). */
  readonly argsMax: number;
  /** Longest inline command line, in bytes (Redis: 64 KiB). */
  readonly inlineBytesMax: number;
  /**
   * Most unparsed bytes held for one connection: the command being received
   * plus whatever was pipelined behind it. Exceeding it closes the connection.
   */
  readonly queryBufferBytesMax: number;
}

/** 64 KiB, Redis' `PROTO_INLINE_MAX_SIZE`; also the longest `*`/`$` header line. */
const INLINE_BYTES_MAX = 64 * 1024;

export const DEFAULT_RESP_LIMITS: RespLimits = Object.freeze({
  bulkBytesMax: 4 * 1024 * 1024,
  argsMax: 65_536,
  inlineBytesMax: INLINE_BYTES_MAX,
  queryBufferBytesMax: 32 * 1024 * 1024,
});

/** The defaults with `overrides` applied; every limit must be a positive safe integer. */
export function resolveRespLimits(overrides: Partial<RespLimits> = {}): RespLimits {
  const limits = { ...DEFAULT_RESP_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidArgumentError(`${name} must be a positive safe integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}
