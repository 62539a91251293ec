/**
 * A small benchmark harness: measure ops/s of a function (sync or async)
 * after a warm-up, optionally with per-op latency percentiles, and print an
 * aligned table with each row's ratio to a named baseline row measured in the
 * same run. Goals are checked and printed as met / NOT MET.
 */

/** Options for one measurement. */
export interface MeasureOptions {
  /** Measure for this long (after warm-up). Ignored when `ops` is set. */
  durationMs?: number;
  /** Measure exactly this many calls instead of a duration. */
  ops?: number;
  /** Warm up (let the JIT settle) for this long before measuring. */
  warmupMs?: number;
  /**
   * Time every call and report p50/p90/p99/max. Each sample includes the cost
   * of reading the timer (tens of ns), so use it for ops of a microsecond or
   * more; for nanosecond ops the ops/s figure is the honest number.
   */
  percentiles?: boolean;
}

/** What one measurement produced. */
export interface Measurement {
  name: string;
  /** Calls measured (warm-up excluded). */
  ops: number;
  /** Wall time of the measured calls. */
  elapsedMs: number;
  opsPerSec: number;
  /**
   * Calls per second of this thread's CPU time (Node only; absent in
   * browsers and for hand-made measurements). Unlike wall time it does not
   * count time the thread spent descheduled, so it stays meaningful when
   * other work shares the cores.
   */
  opsPerCpuSec?: number;
  /** Per-call latency percentiles in microseconds, when asked for. */
  latencyUs?: { p50: number; p90: number; p99: number; max: number };
}

/** Defaults every measurement uses unless its options say otherwise; main.ts sets them from flags. */
export const defaults: { durationMs: number; warmupMs: number; basis: 'wall' | 'cpu'; keys?: number } = {
  durationMs: 1000,
  warmupMs: 250,
  /** What ratios and goals use: wall-clock ops/s, or ops per CPU-second of the measuring thread. */
  basis: 'wall',
};

/** This thread's CPU time in ms, or NaN where the runtime cannot tell (browsers). */
function threadCpuMs(): number {
  const p = (globalThis as { process?: { threadCpuUsage?: () => { user: number; system: number } } }).process;
  if (typeof p?.threadCpuUsage !== 'function') return Number.NaN;
  const u = p.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

/** Results stored here cannot be optimised away by the JIT. */
let sink: unknown;
/** Read the sink so it is observably used (prevents dead-code elimination of measured calls). */
export function sinkValue(): unknown {
  return sink;
}

const batchTargetMs = 2;
const batchOpsMax = 1 << 20;

/**
 * Measure a synchronous function. `fn(i)` gets a running call index, handy for
 * cycling through a prepared input array (`inputs[i % inputs.length]`).
 */
export function measure(name: string, fn: (i: number) => unknown, options: MeasureOptions = {}): Measurement {
  const durationMs = options.durationMs ?? defaults.durationMs;
  const warmupMs = options.warmupMs ?? defaults.warmupMs;
  let i = 0;
  // Warm-up doubles as calibration: find a batch size that takes ~2 ms, so
  // the clock is read rarely enough not to distort fast ops.
  let batch = 1;
  const warmupEnd = performance.now() + warmupMs;
  for (;;) {
    const t0 = performance.now();
    for (let k = 0; k < batch; k++) sink = fn(i++);
    const t1 = performance.now();
    if (t1 >= warmupEnd) break;
    if (t1 - t0 < batchTargetMs && batch < batchOpsMax) batch *= 2;
  }

  if (options.percentiles || options.ops !== undefined) {
    const total = options.ops ?? Number.POSITIVE_INFINITY;
    const samples: number[] = [];
    const end = performance.now() + durationMs;
    const cpu0 = threadCpuMs();
    const start = performance.now();
    let ops = 0;
    while (ops < total) {
      if (options.percentiles) {
        const t0 = performance.now();
        sink = fn(i++);
        samples.push(performance.now() - t0);
      } else {
        sink = fn(i++);
      }
      ops++;
      if (options.ops === undefined && (ops & 63) === 0 && performance.now() >= end) break;
    }
    const elapsedMs = performance.now() - start;
    return finish(name, ops, elapsedMs, options.percentiles ? samples : undefined, threadCpuMs() - cpu0);
  }

  let ops = 0;
  const cpu0 = threadCpuMs();
  const start = performance.now();
  const end = start + durationMs;
  let now = start;
  while (now < end) {
    for (let k = 0; k < batch; k++) sink = fn(i++);
    ops += batch;
    now = performance.now();
  }
  return finish(name, ops, now - start, undefined, threadCpuMs() - cpu0);
}

/**
 * Measure several synchronous functions in alternating rounds (A B C A B C
 * …), each round a slice of `durationMs`. On a shared machine the load drifts
 * over seconds; interleaving exposes every case to the same drift, so their
 * ratios stay meaningful even when absolute numbers move. Percentiles and
 * `ops` are not supported here.
 */
export function measureInterleaved(
  cases: readonly (readonly [name: string, fn: (i: number) => unknown])[],
  options: MeasureOptions & { rounds?: number } = {},
): Measurement[] {
  const rounds = options.rounds ?? 5;
  const sliceMs = (options.durationMs ?? defaults.durationMs) / rounds;
  const warmupMs = options.warmupMs ?? defaults.warmupMs;
  const totals = cases.map(([name]) => ({ name, ops: 0, elapsedMs: 0, cpuMs: 0 }));
  for (let r = 0; r < rounds; r++) {
    cases.forEach(([name, fn], c) => {
      const m = measure(name, fn, {
        durationMs: sliceMs,
        warmupMs: r === 0 ? warmupMs : Math.min(warmupMs, 20),
      });
      totals[c]!.ops += m.ops;
      totals[c]!.elapsedMs += m.elapsedMs;
      totals[c]!.cpuMs += m.opsPerCpuSec ? (m.ops * 1000) / m.opsPerCpuSec : Number.NaN;
    });
  }
  return totals.map((t) => finish(t.name, t.ops, t.elapsedMs, undefined, t.cpuMs));
}

/** Measure an async function, one call at a time (each call awaited before the next). */
export async function measureAsync(
  name: string,
  fn: (i: number) => Promise<unknown>,
  options: MeasureOptions = {},
): Promise<Measurement> {
  const durationMs = options.durationMs ?? defaults.durationMs;
  const warmupMs = options.warmupMs ?? defaults.warmupMs;
  let i = 0;
  const warmupEnd = performance.now() + warmupMs;
  while (performance.now() < warmupEnd) sink = await fn(i++);

  const total = options.ops ?? Number.POSITIVE_INFINITY;
  const samples: number[] = [];
  const cpu0 = threadCpuMs();
  const start = performance.now();
  const end = start + durationMs;
  let ops = 0;
  while (ops < total) {
    const t0 = performance.now();
    sink = await fn(i++);
    const t1 = performance.now();
    if (options.percentiles) samples.push(t1 - t0);
    ops++;
    if (options.ops === undefined && t1 >= end) break;
  }
  const elapsedMs = performance.now() - start;
  return finish(name, ops, elapsedMs, options.percentiles ? samples : undefined, threadCpuMs() - cpu0);
}

function finish(
  name: string,
  ops: number,
  elapsedMs: number,
  samplesMs: number[] | undefined,
  cpuMs: number,
): Measurement {
  const m: Measurement = { name, ops, elapsedMs, opsPerSec: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0 };
  if (cpuMs > 0) m.opsPerCpuSec = (ops * 1000) / cpuMs;
  if (samplesMs && samplesMs.length > 0) {
    samplesMs.sort((a, b) => a - b);
    const at = (q: number) =>
      samplesMs[Math.min(samplesMs.length - 1, Math.floor(q * samplesMs.length))]! * 1000;
    m.latencyUs = { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: samplesMs[samplesMs.length - 1]! * 1000 };
  }
  return m;
}

/** The rate ratios and goals use: per CPU-second when `defaults.basis` is 'cpu' and it was measured. */
export function rate(m: Measurement): number {
  return defaults.basis === 'cpu' && m.opsPerCpuSec !== undefined ? m.opsPerCpuSec : m.opsPerSec;
}

/** A goal a row is checked against; `label` is what the table prints. */
export interface Goal {
  label: string;
  met(row: Measurement, baseline: Measurement | undefined): boolean;
}

/** Goal: at least `n` ops/s. */
export function atLeastOpsPerSec(n: number): Goal {
  return { label: `>= ${formatOps(n)}/s`, met: (row) => rate(row) >= n };
}

/** Goal: at least `ratio` times the baseline row's ops/s (0.9 = "within 10%"). */
export function atLeastRatio(ratio: number): Goal {
  return {
    label: `>= ${ratio.toFixed(2)}x baseline`,
    met: (row, baseline) => baseline !== undefined && rate(row) >= ratio * rate(baseline),
  };
}

/** One printed row: a measurement, the name of its baseline row (if any) and an optional goal. */
export interface Row {
  result: Measurement;
  /** Name of another row in the same table to compute the ratio against. */
  baseline?: string;
  goal?: Goal;
}

/** Table rows plus the outcome of every goal (so a caller can summarise or exit non-zero). */
export interface TableReport {
  lines: string[];
  goals: { row: string; goal: string; met: boolean }[];
}

/** Render rows as an aligned text table. Baselines are looked up by name among the rows. */
export function renderTable(title: string, rows: readonly Row[]): TableReport {
  const byName = new Map(rows.map((r) => [r.result.name, r.result]));
  const withLatency = rows.some((r) => r.result.latencyUs);
  const withCpu = rows.some((r) => r.result.opsPerCpuSec !== undefined);
  const header = ['op', 'ops/s'];
  if (withCpu) header.push('ops/cpu-s');
  header.push(defaults.basis === 'cpu' ? 'vs baseline (cpu)' : 'vs baseline');
  if (withLatency) header.push('p50 us', 'p99 us');
  header.push('goal', 'status');
  const goals: TableReport['goals'] = [];
  const body = rows.map((r) => {
    const base = r.baseline ? byName.get(r.baseline) : undefined;
    if (r.baseline && !base) throw new Error(`baseline row "${r.baseline}" not in table "${title}"`);
    const ratio = base && rate(base) > 0 ? `${(rate(r.result) / rate(base)).toFixed(2)}x ${base.name}` : '';
    const cells = [r.result.name, formatOps(r.result.opsPerSec)];
    if (withCpu) cells.push(r.result.opsPerCpuSec !== undefined ? formatOps(r.result.opsPerCpuSec) : '');
    cells.push(ratio);
    if (withLatency) {
      cells.push(r.result.latencyUs ? fmtUs(r.result.latencyUs.p50) : '');
      cells.push(r.result.latencyUs ? fmtUs(r.result.latencyUs.p99) : '');
    }
    if (r.goal) {
      const met = r.goal.met(r.result, base);
      goals.push({ row: r.result.name, goal: r.goal.label, met });
      cells.push(r.goal.label, met ? 'met' : 'NOT MET');
    } else {
      cells.push('', '');
    }
    return cells;
  });
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  // Numbers right-aligned, text left-aligned.
  const numeric = new Set(['ops/s', 'ops/cpu-s', 'p50 us', 'p99 us']);
  const fmt = (row: string[]) =>
    row
      .map((cell, c) => (numeric.has(header[c]!) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const lines = [`## ${title}`, fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(fmt)];
  return { lines, goals };
}

/** Print a table to stdout and return the goal outcomes. */
export function printTable(title: string, rows: readonly Row[]): TableReport['goals'] {
  const report = renderTable(title, rows);
  console.log(report.lines.join('\n'));
  console.log('');
  return report.goals;
}

/** 1234567 -> "1.23M", 4321 -> "4.32k". */
export function formatOps(n: number): string {
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(2)}k`;
  return n.toFixed(1);
}

function fmtUs(us: number): string {
  return us >= 100 ? us.toFixed(0) : us.toFixed(2);
}
