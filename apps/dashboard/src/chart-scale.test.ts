import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatTick, niceCeiling } from './chart-scale.ts';

describe('chart scale', () => {
  it('niceCeiling is the smallest 1, 2 or 5 × 10^n at or above the value and the floor', () => {
    expect([0, 0.3, 1, 1.01, 3, 7, 12, 4999, 5001].map((x) => niceCeiling(x))).toEqual([
      1, 1, 1, 2, 5, 10, 20, 5000, 10000,
    ]);
    expect(niceCeiling(0.03, 0.01)).toBe(0.05);
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (x) => {
        const ceiling = niceCeiling(x, 1e-3);
        expect(ceiling).toBeGreaterThanOrEqual(x);
        expect(ceiling).toBeLessThanOrEqual(x * 5 + 1e-12);
      }),
    );
  });

  it('tick labels of quarter steps are exact, not rounded to one decimal', () => {
    const quarters = (max: number) => [0.25, 0.5, 0.75, 1].map((f) => formatTick(f * max));
    expect(quarters(1)).toEqual(['0.25', '0.5', '0.75', '1']);
    expect(quarters(5)).toEqual(['1.25', '2.5', '3.75', '5']);
    expect(quarters(5000)).toEqual(['1.25k', '2.5k', '3.75k', '5k']);
    expect(formatTick(0)).toBe('0');
  });
});
