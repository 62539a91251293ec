/**
 * The storage workloads, written once against a small `Target` so the
 * filesystem backend, the memory backend and each raw engine do exactly the
 * same work in the same run.
 */
import { defaults, type Measurement, measure, measureAsync } from '../harness.ts';

/** What a workload drives: a raw engine or a Tessera store behind an adapter. */
export interface Target {
  readonly name: string;
  /** One put; durable = on disk (fsync or the engine's equivalent) before it settles. */
  put(key: Uint8Array, value: Uint8Array, durable: boolean): Promise<void>;
  /** Many puts in one atomic commit. */
  putMany(entries: readonly (readonly [Uint8Array, Uint8Array])[], durable: boolean): Promise<void>;
  /** A point get, synchronous where the engine allows it (raw engines read synchronously; the async wrapper is the caller's). */
  get(key: Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Reads `count` entries in key order (or reverse) from the start of the keyspace; returns how many it saw. */
  scan(count: number, reverse: boolean): Promise<number>;
}

export const keyBytes = 20;
export const valueBytes = 100;
export const batchSize = 1000;
export const inFlight = 64;
export const scanCount = 10_000;

/** Deterministic keys so every target sees the same bytes (xorshift32, fixed seed). */
export function makeKeys(count: number, seed = 0x9e3779b9): Uint8Array[] {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const keys: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const k = new Uint8Array(keyBytes);
    for (let j = 0; j < keyBytes; j += 4) {
      const r = next();
      k[j] = r;
      k[j + 1] = r >>> 8;
      k[j + 2] = r >>> 16;
      k[j + 3] = r >>> 24;
    }
    keys.push(k);
  }
  return keys;
}

export function makeValue(i: number): Uint8Array {
  const v = new Uint8Array(valueBytes);
  v.fill(i & 0xff);
  return v;
}

/** Loads `keys` in batches (not measured). */
export async function preload(target: Target, keys: readonly Uint8Array[]): Promise<void> {
  const value = makeValue(1);
  for (let i = 0; i < keys.length; i += batchSize) {
    await target.putMany(
      keys.slice(i, i + batchSize).map((k) => [k, value] as const),
      false,
    );
  }
}

/** Fresh keys for write workloads, distinct from the preloaded ones. */
function writeKeys(seed: number): Uint8Array[] {
  return makeKeys(50_000, seed);
}

export async function singlePut(
  t: Target,
  durable: boolean,
  options: { durationMs?: number } = {},
): Promise<Measurement> {
  const keys = writeKeys(11);
  const value = makeValue(2);
  return measureAsync(
    `${t.name} put${durable ? ' durable' : ''}`,
    (i) => t.put(keys[i % keys.length]!, value, durable),
    {
      durationMs: options.durationMs,
      warmupMs: 100,
    },
  );
}

export async function batchedPut(
  t: Target,
  durable: boolean,
  options: { durationMs?: number } = {},
): Promise<Measurement> {
  const keys = writeKeys(22);
  const value = makeValue(3);
  const batches: (readonly [Uint8Array, Uint8Array])[][] = [];
  for (let i = 0; i + batchSize <= keys.length; i += batchSize) {
    batches.push(keys.slice(i, i + batchSize).map((k) => [k, value] as const));
  }
  const m = await measureAsync(
    `${t.name} batch ${batchSize}${durable ? ' durable' : ''}`,
    (i) => t.putMany(batches[i % batches.length]!, durable),
    { durationMs: options.durationMs, warmupMs: 100 },
  );
  return perItem(m, batchSize);
}

/**
 * Batches of keys that only grow (0xFE then a big-endian counter), like
 * coordinator messages keyed by Lamport clock: they append at the end of the
 * keyspace, so a B-tree touches few pages per commit. Reported per put.
 */
export async function batchedAppend(
  t: Target,
  durable: boolean,
  options: { durationMs?: number } = {},
): Promise<Measurement> {
  const value = makeValue(5);
  let counter = appendCounter;
  const m = await measureAsync(
    `${t.name} batch ${batchSize} append${durable ? ' durable' : ''}`,
    () => {
      const entries: (readonly [Uint8Array, Uint8Array])[] = [];
      for (let i = 0; i < batchSize; i++) {
        const key = new Uint8Array(9);
        key[0] = 0xfe;
        new DataView(key.buffer).setBigUint64(1, BigInt(counter++));
        entries.push([key, value]);
      }
      return t.putMany(entries, durable);
    },
    { durationMs: options.durationMs, warmupMs: 100 },
  );
  appendCounter = counter + 1;
  return perItem(m, batchSize);
}
let appendCounter = 0;

/** `inFlight` writers, each awaiting its durable put before the next: the group-commit workload. */
export async function concurrentPuts(t: Target, options: { durationMs?: number } = {}): Promise<Measurement> {
  const keys = writeKeys(33);
  const value = makeValue(4);
  const durationMs = options.durationMs ?? defaults.durationMs;
  let next = 0;
  const run = async (until: number, count: { n: number }) => {
    while (performance.now() < until) {
      await t.put(keys[next++ % keys.length]!, value, true);
      count.n++;
    }
  };
  const warm = { n: 0 };
  const warmEnd = performance.now() + 100;
  await Promise.all(Array.from({ length: inFlight }, () => run(warmEnd, warm)));
  const count = { n: 0 };
  const cpu0 = threadCpuMs();
  const start = performance.now();
  await Promise.all(Array.from({ length: inFlight }, () => run(start + durationMs, count)));
  const elapsedMs = performance.now() - start;
  const cpuMs = threadCpuMs() - cpu0;
  return {
    name: `${t.name} put durable x${inFlight}`,
    ops: count.n,
    elapsedMs,
    opsPerSec: (count.n * 1000) / elapsedMs,
    opsPerCpuSec: (count.n * 1000) / cpuMs,
  };
}

/** Point gets of preloaded keys. A synchronous `get` is measured synchronously (its natural speed). */
export async function pointGet(
  t: Target,
  keys: readonly Uint8Array[],
  options: { durationMs?: number } = {},
): Promise<Measurement> {
  const name = `${t.name} get`;
  const probe = t.get(keys[0]!);
  if (!(probe instanceof Promise)) {
    return measure(name, (i) => t.get(keys[(i * 7919) % keys.length]!), {
      durationMs: options.durationMs,
      warmupMs: 100,
    });
  }
  await probe;
  return measureAsync(name, (i) => t.get(keys[(i * 7919) % keys.length]!) as Promise<unknown>, {
    durationMs: options.durationMs,
    warmupMs: 100,
  });
}

/** 10k-entry scans from the start; reported per entry. */
export async function scan(
  t: Target,
  reverse: boolean,
  options: { durationMs?: number } = {},
): Promise<Measurement> {
  const m = await measureAsync(
    `${t.name} scan ${scanCount / 1000}k${reverse ? ' reverse' : ''}`,
    () => t.scan(scanCount, reverse),
    {
      durationMs: options.durationMs,
      warmupMs: 100,
    },
  );
  return perItem(m, scanCount);
}

function perItem(m: Measurement, items: number): Measurement {
  const out: Measurement = { ...m, ops: m.ops * items, opsPerSec: m.opsPerSec * items };
  if (m.opsPerCpuSec !== undefined) out.opsPerCpuSec = m.opsPerCpuSec * items;
  return out;
}

function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}
