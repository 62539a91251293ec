import { InvalidArgumentError } from './errors.ts';
import type { StoreLimits } from './store.ts';

/**
 * Keys carry a 2-byte header and a few tuple elements; 1 KiB leaves room for
 * long composite index keys and stays under every embedded engine's own key
 * bound (LMDB as built by lmdb-js allows 1978 bytes).
 */
export const DEFAULT_KEY_BYTES_MAX = 1024;
/** One document or one coordinator message; bigger blobs belong in chunks. */
export const DEFAULT_VALUE_BYTES_MAX = 1024 * 1024;
/** Bounds one transaction's memory and the time it holds the engine's write lock. */
export const DEFAULT_BATCH_OPS_MAX = 10_000;

/** The limits a store enforces when the caller gives none. */
export const DEFAULT_STORE_LIMITS: StoreLimits = Object.freeze({
  keyBytesMax: DEFAULT_KEY_BYTES_MAX,
  valueBytesMax: DEFAULT_VALUE_BYTES_MAX,
  batchOpsMax: DEFAULT_BATCH_OPS_MAX,
});

/** Fills unset (or `undefined`) limits with the defaults; throws `InvalidArgumentError` unless each is a positive safe integer. */
export function resolveLimits(limits?: Partial<StoreLimits>): StoreLimits {
  const resolved = { ...DEFAULT_STORE_LIMITS };
  for (const name of ['keyBytesMax', 'valueBytesMax', 'batchOpsMax'] as const) {
    resolved[name] = resolveBound(name, limits?.[name], DEFAULT_STORE_LIMITS[name]);
  }
  return Object.freeze(resolved);
}

/**
 * `value`, or `fallback` when unset; throws `InvalidArgumentError` unless it
 * is a positive safe integer. A zero or NaN page size would otherwise make
 * every scan end at once with no error.
 */
export function resolveBound(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}
