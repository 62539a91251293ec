/** Reconnect backoff: exponential with jitter, bounded. */

/** Bounds of the reconnect backoff, ms. */
export interface Backoff {
  readonly delayMsMin: number;
  readonly delayMsMax: number;
}

export const BACKOFF_DEFAULT: Backoff = { delayMsMin: 500, delayMsMax: 10_000 };

/**
 * Delay before reconnect attempt `attempt` (0 = first retry): min·2^attempt
 * capped at max, then ±25% jitter so many tabs do not redial in lockstep.
 * `random` returns a number in [0, 1).
 */
export function backoffDelayMs(attempt: number, backoff: Backoff, random: () => number): number {
  const base = Math.min(backoff.delayMsMax, backoff.delayMsMin * 2 ** Math.min(attempt, 30));
  return Math.round(base * (0.75 + random() * 0.5));
}
