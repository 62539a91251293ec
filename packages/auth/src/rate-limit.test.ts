import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter, TokenBucket } from './rate-limit.ts';

describe('TokenBucket', () => {
  it('grants the burst, then refills at the rate', () => {
    const bucket = new TokenBucket({ ratePerSecond: 10, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 0]);
    expect(bucket.take(0)).toBe(100);
    expect(bucket.take(99)).toBe(1);
    expect(bucket.take(100)).toBe(0);
    expect(bucket.take(10_000, 3)).toBe(0);
    expect(bucket.take(10_000)).toBeGreaterThan(0);
  });

  it('property: over any schedule, grants never exceed burst + rate * elapsed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          const bucket = new TokenBucket({ ratePerSecond: rate, burst }, 0);
          let now = 0;
          let granted = 0;
          for (const gap of gaps) {
            now += gap;
            if (bucket.take(now) === 0) granted++;
          }
          expect(granted).toBeLessThanOrEqual(burst + (rate * now) / 1000 + 1e-9);
        },
      ),
    );
  });
});

describe('RateLimiter', () => {
  it('keeps keys apart and bounds the number of buckets', () => {
    let now = 0;
    const limiter = new RateLimiter({ ratePerSecond: 1, burst: 1 }, { keysMax: 2, now: () => now });
    limiter.take('a');
    expect(() => limiter.take('a')).toThrow(
      expect.objectContaining({ name: 'RateLimitedError', retryAfterMs: 1000 }),
    );
    limiter.take('b');
    limiter.take('c');
    expect(limiter.size).toBe(2);
    now = 1000;
    limiter.take('a');
  });

  it('refuses nonsense limits', () => {
    expect(() => new RateLimiter({ ratePerSecond: 0, burst: 1 })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    );
    expect(() => new RateLimiter({ ratePerSecond: 1, burst: 0 })).toThrow(
      expect.objectContaining({ name: 'InvalidArgumentError' }),
    );
  });
});
