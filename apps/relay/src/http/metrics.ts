/**
 * A small Prometheus registry and its text exposition (format 0.0.4):
 * counters and histograms with labels, and gauges read at scrape time.
 * Hand-written rather than prom-client: a few dozen lines cover what the
 * peer exposes, and the bounds (label sets per metric) are ours.
 */

/** Label sets kept per metric; beyond it new sets are folded into `{overflow="true"}`. */
export const LABEL_SETS_MAX = 1000;

/** Latency buckets in seconds (0.1 ms … 10 s). */
export const LATENCY_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('\n', '\\n').replaceAll('"', '\\"');
}

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra !== undefined) pairs.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function labelKey(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Number.POSITIVE_INFINITY) return '+Inf';
  if (n === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(n);
}

abstract class Metric {
  readonly name: string;
  readonly help: string;
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  constructor(name: string, help: string) {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    this.name = name;
    this.help = help;
  }
  header(): string {
    return `# HELP ${this.name} ${this.help.replaceAll('\\', '\\\\').replaceAll('\n', '\\n')}\n# TYPE ${this.name} ${this.type}\n`;
  }
  abstract samples(): string;
}

/** A monotonically increasing count per label set. */
export class Counter extends Metric {
  readonly type = 'counter';
  readonly #values = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels = {}, by = 1): void {
    let key = labelKey(labels);
    let entry = this.#values.get(key);
    if (entry === undefined) {
      if (this.#values.size >= LABEL_SETS_MAX) {
        labels = { overflow: 'true' };
        key = labelKey(labels);
        entry = this.#values.get(key);
      }
      if (entry === undefined) {
        entry = { labels, value: 0 };
        this.#values.set(key, entry);
      }
    }
    entry.value += by;
  }

  get(labels: Labels = {}): number {
    return this.#values.get(labelKey(labels))?.value ?? 0;
  }

  samples(): string {
    let out = '';
    for (const { labels, value } of this.#values.values())
      out += `${this.name}${labelText(labels)} ${formatNumber(value)}\n`;
    return out;
  }
}

/** Observations counted into cumulative buckets, with their sum and count. */
export class Histogram extends Metric {
  readonly type = 'histogram';
  readonly buckets: readonly number[];
  readonly #values = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(name: string, help: string, buckets: readonly number[] = LATENCY_BUCKETS_S) {
    super(name, help);
    this.buckets = buckets;
  }

  observe(labels: Labels, value: number): void {
    let key = labelKey(labels);
    let entry = this.#values.get(key);
    if (entry === undefined) {
      if (this.#values.size >= LABEL_SETS_MAX) {
        labels = { overflow: 'true' };
        key = labelKey(labels);
        entry = this.#values.get(key);
      }
      if (entry === undefined) {
        entry = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
        this.#values.set(key, entry);
      }
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]!++;
    entry.sum += value;
    entry.count++;
  }

  samples(): string {
    let out = '';
    for (const { labels, counts, sum, count } of this.#values.values()) {
      this.buckets.forEach((le, i) => {
        out += `${this.name}_bucket${labelText(labels, ['le', formatNumber(le)])} ${counts[i]}\n`;
      });
      out += `${this.name}_bucket${labelText(labels, ['le', '+Inf'])} ${count}\n`;
      out += `${this.name}_sum${labelText(labels)} ${formatNumber(sum)}\n`;
      out += `${this.name}_count${labelText(labels)} ${count}\n`;
    }
    return out;
  }
}

/** A value read when scraped: `read` returns one number per label set. */
export class Gauge extends Metric {
  readonly type = 'gauge';
  readonly #read: () => Iterable<readonly [Labels, number]>;

  constructor(name: string, help: string, read: () => Iterable<readonly [Labels, number]>) {
    super(name, help);
    this.#read = read;
  }

  samples(): string {
    let out = '';
    for (const [labels, value] of this.#read())
      out += `${this.name}${labelText(labels)} ${formatNumber(value)}\n`;
    return out;
  }
}

/** The set of metrics one process exposes. */
export class Registry {
  readonly #metrics = new Map<string, Metric>();

  register<M extends Metric>(metric: M): M {
    if (this.#metrics.has(metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.#metrics.set(metric.name, metric);
    return metric;
  }

  /** The text exposition of every metric. */
  expose(): string {
    let out = '';
    for (const metric of this.#metrics.values()) out += metric.header() + metric.samples();
    return out;
  }
}

/** Content-Type of the text exposition. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
