/**
 * Checks every backend runs before touching its engine, so bad input gets a
 * typed error and writes nothing. Exported for backends in other packages.
 */
import { compareBytes, prefixEnd } from './bytes.ts';
import { InvalidArgumentError, LimitExceededError } from './errors.ts';
import type { BatchOp, ScanOptions, StoreLimits } from './store.ts';

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  return value.constructor?.name ?? 'object';
}

/** Throws `InvalidArgumentError` unless `value` is a `Uint8Array` (a Node `Buffer` is one). */
export function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new InvalidArgumentError(`${what} must be a Uint8Array, got ${describe(value)}`);
  }
  // A view over a transferred buffer reads as empty; refuse it rather than store nothing. Only an
  // empty view can be one, and only then is `.buffer` read: on a small array V8 keeps inside its
  // heap, reading `.buffer` moves the bytes out to a new ArrayBuffer (it showed in write profiles).
  if (value.byteLength === 0 && (value.buffer as { detached?: boolean }).detached === true) {
    throw new InvalidArgumentError(`${what} is a view over a detached ArrayBuffer`);
  }
}

/** A key is a non-empty `Uint8Array` of at most `keyBytesMax` bytes. */
export function checkKey(key: unknown, limits: StoreLimits): asserts key is Uint8Array {
  checkBytes(key, 'key');
  // Empty keys are refused because some engines (LMDB) cannot store them.
  if (key.length === 0) throw new InvalidArgumentError('key must not be empty');
  if (key.length > limits.keyBytesMax) {
    throw new LimitExceededError('keyBytesMax', limits.keyBytesMax, key.length);
  }
}

/** A value is a `Uint8Array` (empty allowed) of at most `valueBytesMax` bytes. */
export function checkValue(value: unknown, limits: StoreLimits): asserts value is Uint8Array {
  checkBytes(value, 'value');
  if (value.length > limits.valueBytesMax) {
    throw new LimitExceededError('valueBytesMax', limits.valueBytesMax, value.length);
  }
}

/** Checks the whole batch (its size, then every op) before any of it is applied. */
export function checkBatch(ops: unknown, limits: StoreLimits): asserts ops is readonly BatchOp[] {
  if (!Array.isArray(ops)) throw new InvalidArgumentError(`batch must be an array, got ${describe(ops)}`);
  if (ops.length > limits.batchOpsMax) {
    throw new LimitExceededError('batchOpsMax', limits.batchOpsMax, ops.length);
  }
  for (let i = 0; i < ops.length; i++) {
    const op: unknown = ops[i];
    if (typeof op !== 'object' || op === null) {
      throw new InvalidArgumentError(`batch op ${i} must be an object, got ${describe(op)}`);
    }
    const { type, key, value } = op as { type?: unknown; key?: unknown; value?: unknown };
    if (type === 'put') {
      checkKey(key, limits);
      checkValue(value, limits);
    } else if (type === 'delete') {
      checkKey(key, limits);
    } else {
      throw new InvalidArgumentError(`batch op ${i} has type ${String(type)}; expected 'put' or 'delete'`);
    }
  }
}

/** Throws `InvalidArgumentError` unless `options` is undefined or an object (durable, when set, a boolean). */
export function checkWriteOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`write options must be an object, got ${describe(options)}`);
  }
  const { durable } = options as { durable?: unknown };
  if (durable !== undefined && typeof durable !== 'boolean') {
    throw new InvalidArgumentError(`durable must be a boolean, got ${describe(durable)}`);
  }
}

/** A scan resolved to one half-open range `[lower, upper)` of keys. */
export interface ScanRange {
  /** Inclusive lower bound; undefined means the first key. */
  readonly lower: Uint8Array | undefined;
  /** Exclusive upper bound; undefined means past the last key. */
  readonly upper: Uint8Array | undefined;
  readonly reverse: boolean;
  /** At most this many entries; `Infinity` when the caller set none. */
  readonly limit: number;
  /** True when the range holds no key at all (e.g. start >= end, limit 0). */
  readonly empty: boolean;
}

/**
 * Checks scan options and resolves them to one range. `prefix` combines with
 * `start`/`end` as an intersection, which is how a caller resumes a prefix
 * scan from a key. `start >= end` is an empty range, not an error.
 */
export function resolveScan(options: unknown): ScanRange {
  if (options === undefined) {
    return { lower: undefined, upper: undefined, reverse: false, limit: Infinity, empty: false };
  }
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(`scan options must be an object, got ${describe(options)}`);
  }
  const { prefix, start, end, reverse, limit } = options as ScanOptions & Record<string, unknown>;
  if (prefix !== undefined) checkBytes(prefix, 'scan prefix');
  if (start !== undefined) checkBytes(start, 'scan start');
  if (end !== undefined) checkBytes(end, 'scan end');
  if (reverse !== undefined && typeof reverse !== 'boolean') {
    throw new InvalidArgumentError(`scan reverse must be a boolean, got ${describe(reverse)}`);
  }
  if (limit !== undefined && !(Number.isSafeInteger(limit) && limit >= 0) && limit !== Infinity) {
    throw new InvalidArgumentError(`scan limit must be a non-negative integer, got ${String(limit)}`);
  }
  let lower = start;
  let upper = end;
  if (prefix !== undefined && prefix.length > 0) {
    if (lower === undefined || compareBytes(prefix, lower) > 0) lower = prefix;
    const prefixUpper = prefixEnd(prefix);
    if (prefixUpper !== undefined && (upper === undefined || compareBytes(prefixUpper, upper) < 0)) {
      upper = prefixUpper;
    }
  }
  const resolvedLimit = limit ?? Infinity;
  const empty =
    resolvedLimit === 0 || (lower !== undefined && upper !== undefined && compareBytes(lower, upper) >= 0);
  return { lower, upper, reverse: reverse ?? false, limit: resolvedLimit, empty };
}

/** True when `key` lies in the range's bounds. */
export function inRange(range: ScanRange, key: Uint8Array): boolean {
  return (
    (range.lower === undefined || compareBytes(key, range.lower) >= 0) &&
    (range.upper === undefined || compareBytes(key, range.upper) < 0)
  );
}
