/**
 * Counts and times the record operations this peer coordinates (its
 * Replicator's put/get/delete, whoever calls them: the peer API, RESP, HTTP),
 * so its node state can carry ops, quorum failures and latency percentiles
 * for the dashboard's live charts.
 */
import type { OpStats } from '@tessera/coordinator';
import { QuorumNotReachedError, type Replicator } from '@tessera/replication';

/** Latency percentiles cover the operations finished within this window. */
export const opLatencyWindowMs = 10_000;
/** Latencies kept for the percentiles; past this many in one window, the newest ones count. */
export const opLatencySamplesMax = 4096;

export class OpStatsRecorder {
  readonly #now: () => number;
  #ops = 0;
  #quorumFailures = 0;
  #errors = 0;
  /** A ring of (finish time, latency) pairs, oldest at `#next` once full. */
  readonly #endMs = new Float64Array(opLatencySamplesMax);
  readonly #latencyMs = new Float64Array(opLatencySamplesMax);
  #next = 0;
  #held = 0;

  /** `now` is a monotonic clock in ms (default `performance.now`). */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Counts one finished operation; `error` is what it threw, if it did. */
  record(latencyMs: number, error?: unknown): void {
    this.#ops += 1;
    if (error instanceof QuorumNotReachedError) this.#quorumFailures += 1;
    else if (error !== undefined) this.#errors += 1;
    this.#endMs[this.#next] = this.#now();
    this.#latencyMs[this.#next] = Math.max(0, latencyMs);
    this.#next = (this.#next + 1) % opLatencySamplesMax;
    this.#held = Math.min(this.#held + 1, opLatencySamplesMax);
  }

  /** Runs `operation`, timing and counting it; resolves or rejects as it does. */
  async time<T>(operation: () => Promise<T>): Promise<T> {
    const startMs = this.#now();
    try {
      const result = await operation();
      this.record(this.#now() - startMs);
      return result;
    } catch (error) {
      this.record(this.#now() - startMs, error ?? new Error('rejected without a reason'));
      throw error;
    }
  }

  /** Counters since start, percentiles of the last `opLatencyWindowMs`. */
  snapshot(): OpStats {
    const sinceMs = this.#now() - opLatencyWindowMs;
    const recent: number[] = [];
    for (let i = 0; i < this.#held; i++) {
      if ((this.#endMs[i] as number) >= sinceMs) recent.push(this.#latencyMs[i] as number);
    }
    recent.sort((a, b) => a - b);
    return {
      ops: this.#ops,
      quorumFailures: this.#quorumFailures,
      errors: this.#errors,
      p50Ms: percentile(recent, 0.5),
      p99Ms: percentile(recent, 0.99),
      windowMs: opLatencyWindowMs,
    };
  }
}

/** Nearest-rank percentile of sorted values, rounded to 0.1 ms; null when empty. */
function percentile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round((sorted[rank] as number) * 10) / 10;
}

/** Makes `replicator`'s put, get and delete count themselves in `stats` (the instance only). */
export function instrumentReplicator(
  replicator: Pick<Replicator, 'put' | 'get' | 'delete'>,
  stats: OpStatsRecorder,
): void {
  const put = replicator.put.bind(replicator);
  const get = replicator.get.bind(replicator);
  const remove = replicator.delete.bind(replicator);
  Object.assign(replicator, {
    put: (...args: Parameters<typeof put>) => stats.time(() => put(...args)),
    get: (...args: Parameters<typeof get>) => stats.time(() => get(...args)),
    delete: (...args: Parameters<typeof remove>) => stats.time(() => remove(...args)),
  });
}
