/**
 * Token-bucket rate limits: each key (a database, a client) gets `burst`
 * operations at once and `ratePerSecond` more each second. Time is passed
 * in, so tests are deterministic. The number of buckets is bounded; the
 * least recently used is dropped first (it comes back full, which is what
 * an idle key's bucket would be anyway).
 */
import { InvalidArgumentError } from '@tessera/core';
import { RateLimitedError } from './errors.ts';

/** A rate: sustained operations per second and the burst allowed on top. */
export interface RateLimit {
  readonly ratePerSecond: number;
  /** Bucket size: operations allowed at once after idling. */
  readonly burst: number;
}

/** Default most buckets a `RateLimiter` keeps. */
export const RATE_LIMIT_KEYS_MAX_DEFAULT = 10_000;

/** One token bucket. */
export class TokenBucket {
  readonly #limit: RateLimit;
  #tokens: number;
  #lastMs: number;

  constructor(limit: RateLimit, nowMs: number) {
    checkLimit(limit);
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#lastMs = nowMs;
  }

  /** Takes `cost` tokens at `nowMs`: returns 0 when granted, else the ms until it would be (nothing taken). */
  take(nowMs: number, cost = 1): number {
    if (nowMs > this.#lastMs) {
      this.#tokens = Math.min(
        this.#limit.burst,
        this.#tokens + ((nowMs - this.#lastMs) * this.#limit.ratePerSecond) / 1000,
      );
      this.#lastMs = nowMs;
    }
    if (this.#tokens >= cost) {
      this.#tokens -= cost;
      return 0;
    }
    // The epsilon keeps float error (0.99 + 0.01 tokens) from adding a whole ms.
    return Math.max(1, Math.ceil(((cost - this.#tokens) * 1000) / this.#limit.ratePerSecond - 1e-9));
  }
}

/** Buckets per key, bounded. */
export class RateLimiter {
  readonly limit: RateLimit;
  readonly keysMax: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(limit: RateLimit, options: { keysMax?: number; now?: () => number } = {}) {
    checkLimit(limit);
    this.limit = limit;
    this.keysMax = options.keysMax ?? RATE_LIMIT_KEYS_MAX_DEFAULT;
    if (!Number.isSafeInteger(this.keysMax) || this.keysMax < 1)
      throw new InvalidArgumentError('keysMax must be a positive integer');
    this.#now = options.now ?? (() => Date.now());
  }

  /** Takes `cost` from `key`'s bucket: 0 when granted, else ms until it would be. */
  tryTake(key: string, cost = 1): number {
    const nowMs = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = new TokenBucket(this.limit, nowMs);
      if (this.#buckets.size >= this.keysMax) {
        const oldest = this.#buckets.keys().next().value as string;
        this.#buckets.delete(oldest);
      }
    } else {
      // Re-inserted so the map's order is least recently used first.
      this.#buckets.delete(key);
    }
    this.#buckets.set(key, bucket);
    return bucket.take(nowMs, cost);
  }

  /** Like `tryTake`, but throws `RateLimitedError` when refused. */
  take(key: string, cost = 1): void {
    const waitMs = this.tryTake(key, cost);
    if (waitMs > 0) throw new RateLimitedError(key, waitMs);
  }

  /** Buckets held now. */
  get size(): number {
    return this.#buckets.size;
  }
}

function checkLimit(limit: RateLimit): void {
  if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) {
    throw new InvalidArgumentError('ratePerSecond must be a positive number');
  }
  if (!(limit.burst >= 1) || !Number.isFinite(limit.burst))
    throw new InvalidArgumentError('burst must be >= 1');
}
