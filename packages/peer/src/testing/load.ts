/**
 * A closed-loop load generator for benchmarks: `clients` loops, each issuing
 * one operation after the other for `durationMs` (after `warmupMs`), with
 * every operation's latency recorded. Runs inside a peer process so the load
 * is spread over the peers like embedded clients.
 */

/** What one load run measured. */
export interface LoadResult {
  /** Operations completed in the measured window. */
  readonly ops: number;
  /** Operations that failed in the measured window. */
  readonly errors: number;
  readonly elapsedMs: number;
  /** Latency of each measured operation, microseconds (rounded). */
  readonly latenciesUs: number[];
  /** First error message seen, if any. */
  readonly firstError: string | null;
}

/** Runs `op(client, i)` from `clients` concurrent loops. */
export async function runLoad(
  clients: number,
  warmupMs: number,
  durationMs: number,
  op: (client: number, i: number) => Promise<unknown>,
): Promise<LoadResult> {
  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + durationMs;
  let ops = 0;
  let errors = 0;
  let firstError: string | null = null;
  const latenciesUs: number[] = [];
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; ; i++) {
        const t0 = performance.now();
        if (t0 >= end) return;
        let failed = false;
        try {
          await op(client, i);
        } catch (err) {
          failed = true;
          firstError ??= err instanceof Error ? `${err.name}: ${err.message}` : String(err);
        }
        const t1 = performance.now();
        if (t0 < measureFrom || t1 > end) continue;
        if (failed) errors++;
        else {
          ops++;
          latenciesUs.push(Math.round((t1 - t0) * 1000));
        }
      }
    }),
  );
  return { ops, errors, elapsedMs: durationMs, latenciesUs, firstError };
}
