/**
 * Simulated time: a priority queue of timers ordered by (time, insertion
 * order). `step` runs the earliest one and then lets every promise chain it
 * started settle before the next, so a run is a deterministic sequence.
 */
import type { TimerHandle, Timers } from '../env.ts';

interface Entry {
  readonly time: number;
  readonly seq: number;
  readonly owner: string;
  readonly fn: () => void;
  cancelled: boolean;
}

const before = (a: Entry, b: Entry) => a.time < b.time || (a.time === b.time && a.seq < b.seq);

/** Lets every queued microtask (and what they queue) run. */
const settle: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : () => new Promise((resolve) => setTimeout(resolve, 0));

export class Scheduler {
  #now = 0;
  #seq = 0;
  readonly #heap: Entry[] = [];
  readonly #byOwner = new Map<string, Set<Entry>>();
  /** Errors thrown by timer callbacks (a correct run has none). */
  readonly errors: unknown[] = [];

  get now(): number {
    return this.#now;
  }

  /** Pending timers (cancelled ones included until they surface). */
  get size(): number {
    return this.#heap.length;
  }

  /** Runs `fn` at simulated `delayMs` from now, on behalf of `owner`. */
  after(delayMs: number, fn: () => void, owner = ''): Entry {
    const entry: Entry = {
      time: this.#now + Math.max(0, delayMs),
      seq: this.#seq++,
      owner,
      fn,
      cancelled: false,
    };
    this.#push(entry);
    let set = this.#byOwner.get(owner);
    if (!set) {
      set = new Set();
      this.#byOwner.set(owner, set);
    }
    set.add(entry);
    return entry;
  }

  cancel(handle: TimerHandle): void {
    const entry = handle as Entry;
    entry.cancelled = true;
    this.#byOwner.get(entry.owner)?.delete(entry);
  }

  /** Cancels every pending timer of `owner` (a crash). */
  cancelOwner(owner: string): void {
    const set = this.#byOwner.get(owner);
    if (!set) return;
    for (const entry of set) entry.cancelled = true;
    set.clear();
  }

  /** A `Timers` view for one peer. */
  timersFor(owner: string): Timers {
    return {
      now: () => this.#now,
      setTimeout: (fn, delayMs) => this.after(delayMs, fn, owner),
      clearTimeout: (handle) => this.cancel(handle),
    };
  }

  /** Runs the earliest timer due at or before `untilMs`; false when there is none. */
  async step(untilMs: number): Promise<boolean> {
    for (;;) {
      const top = this.#heap[0];
      if (!top || top.time > untilMs) return false;
      this.#pop();
      if (top.cancelled) continue;
      this.#byOwner.get(top.owner)?.delete(top);
      this.#now = top.time;
      try {
        top.fn();
      } catch (error) {
        this.errors.push(error);
      }
      await settle();
      return true;
    }
  }

  /** Runs every timer due within `ms` and leaves the clock at now + `ms`. */
  async runFor(ms: number): Promise<void> {
    const end = this.#now + ms;
    while (await this.step(end)) {}
    this.#now = end;
  }

  #push(entry: Entry): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}
