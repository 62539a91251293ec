/** Real timers with a movable "now", so tests can age hints and tombstones without waiting. */
import type { Timers } from '@tessera/coordinator';

export interface TestTimers extends Timers {
  /** Moves `now()` forward by `ms` (timers still fire in real time). */
  advance(ms: number): void;
}

export function testTimers(): TestTimers {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    advance: (ms) => {
      offsetMs += ms;
    },
  };
}
