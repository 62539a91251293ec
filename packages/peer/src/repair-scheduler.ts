/**
 * Runs the Replicator's repair tasks on their periods: hint replay,
 * anti-entropy, tombstone reaping and reclaiming slots this peer gave up. A task never overlaps itself (a run
 * that outlasts its period delays the next), failures are logged and
 * counted, and `stop()` waits for a running task to finish.
 */
import type { Timers } from '@tessera/coordinator';
import { InvalidArgumentError } from '@tessera/core';

/** Periods of the repair tasks, ms. */
export interface RepairPeriods {
  /** Replay stored hints to owners that are back up. */
  readonly hintReplayPeriodMs: number;
  /** Compare slot digests with co-owners and repair what differs. */
  readonly antiEntropyPeriodMs: number;
  /** Remove tombstones every owner holds that are past the grace period. */
  readonly tombstoneReapPeriodMs: number;
  /** Hand off and drop the records of slots this peer no longer owns (see `Replicator.reclaimUnowned`). */
  readonly reclaimPeriodMs: number;
}

export const REPAIR_PERIODS_DEFAULT: RepairPeriods = {
  hintReplayPeriodMs: 2_000,
  antiEntropyPeriodMs: 60_000,
  tombstoneReapPeriodMs: 10 * 60_000,
  reclaimPeriodMs: 2 * 60_000,
};

/** The named repair tasks. */
export type RepairTaskName = 'hintReplay' | 'antiEntropy' | 'tombstoneReap' | 'reclaim';

/** What the scheduler has done, per task. */
export interface RepairTaskStats {
  runs: number;
  failures: number;
  /** The last run's report (whatever the task returned), for dashboards and tests. */
  lastReport: unknown;
  lastError: string | null;
}

interface Task {
  readonly name: RepairTaskName;
  readonly periodMs: number;
  readonly run: () => Promise<unknown>;
  readonly stats: RepairTaskStats;
  timer: unknown;
  running: Promise<void> | undefined;
  /** A `runNow` arrived while the task was running: run again right after. */
  again: boolean;
}

export class RepairScheduler {
  readonly #timers: Timers;
  readonly #log: (message: string, err: unknown) => void;
  readonly #tasks: Map<RepairTaskName, Task>;
  #started = false;

  constructor(
    timers: Timers,
    periods: RepairPeriods,
    run: Readonly<Record<RepairTaskName, () => Promise<unknown>>>,
    log: (message: string, err: unknown) => void = () => undefined,
  ) {
    this.#timers = timers;
    this.#log = log;
    const periodOf: Record<RepairTaskName, number> = {
      hintReplay: periods.hintReplayPeriodMs,
      antiEntropy: periods.antiEntropyPeriodMs,
      tombstoneReap: periods.tombstoneReapPeriodMs,
      reclaim: periods.reclaimPeriodMs,
    };
    this.#tasks = new Map();
    for (const name of Object.keys(periodOf) as RepairTaskName[]) {
      const periodMs = periodOf[name];
      if (!Number.isFinite(periodMs) || periodMs <= 0) {
        throw new InvalidArgumentError(`repair period of ${name} must be a positive number of ms`);
      }
      this.#tasks.set(name, {
        name,
        periodMs,
        run: run[name],
        stats: { runs: 0, failures: 0, lastReport: null, lastError: null },
        timer: undefined,
        running: undefined,
        again: false,
      });
    }
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const task of this.#tasks.values()) this.#schedule(task);
  }

  /** Cancels the timers and waits for running tasks. */
  async stop(): Promise<void> {
    this.#started = false;
    for (const task of this.#tasks.values()) {
      if (task.timer !== undefined) this.#timers.clearTimeout(task.timer);
      task.timer = undefined;
      task.again = false;
    }
    await Promise.allSettled([...this.#tasks.values()].map((task) => task.running));
  }

  /** Runs a task now (e.g. hint replay when an owner comes back), or right after its current run. */
  runNow(name: RepairTaskName): void {
    const task = this.#tasks.get(name);
    if (task === undefined || !this.#started) return;
    if (task.running !== undefined) {
      task.again = true;
      return;
    }
    if (task.timer !== undefined) this.#timers.clearTimeout(task.timer);
    task.timer = undefined;
    this.#execute(task);
  }

  stats(): Record<RepairTaskName, Readonly<RepairTaskStats>> {
    const out = {} as Record<RepairTaskName, RepairTaskStats>;
    for (const [name, task] of this.#tasks) out[name] = { ...task.stats };
    return out;
  }

  #schedule(task: Task): void {
    if (!this.#started) return;
    task.timer = this.#timers.setTimeout(() => {
      task.timer = undefined;
      this.#execute(task);
    }, task.periodMs);
  }

  #execute(task: Task): void {
    task.running = (async () => {
      try {
        task.stats.lastReport = await task.run();
        task.stats.lastError = null;
      } catch (err) {
        task.stats.failures++;
        task.stats.lastError = err instanceof Error ? err.message : String(err);
        this.#log(`repair task ${task.name} failed`, err);
      } finally {
        task.stats.runs++;
        task.running = undefined;
      }
      if (task.again && this.#started) {
        task.again = false;
        this.#execute(task);
      } else {
        this.#schedule(task);
      }
    })();
  }
}
