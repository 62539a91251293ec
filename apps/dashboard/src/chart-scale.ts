/** Axis arithmetic of the live charts. */

/** The smallest 1, 2 or 5 × 10^n at or above `x` (at least `floor`). */
export function niceCeiling(x: number, floor = 1): number {
  const target = Math.max(x, floor);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 2, 5, 10]) if (step * power >= target) return step * power;
  return 10 * power;
}

/** A tick label with at most 3 significant digits (quarters of 1, 2 or 5 × 10^n stay exact: 0.25, 3.75). */
export function formatTick(value: number): string {
  if (value >= 1000) return `${Number((value / 1000).toPrecision(3))}k`;
  return String(Number(value.toPrecision(3)));
}
