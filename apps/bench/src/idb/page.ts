/**
 * The browser half of the IndexedDB benchmark: Tessera's IndexedDB store
 * against raw `idb` doing the same operations, in the same page and run.
 * The Node runner builds this file with Vite and calls `tesseraIdbBench`.
 */
import { deleteIndexedDbStore, IDB_OBJECT_STORE, openIndexedDbStore, type Store } from '@tessera/storage';
import { deleteDB, type IDBPDatabase, openDB } from 'idb';
import { type Measurement, measureAsync } from '../harness.ts';

/** What the runner asks for. */
export interface IdbBenchConfig {
  readonly durationMs: number;
  readonly warmupMs: number;
}

/** One workload's pair of results (ops/s counts single records, not calls). */
export interface IdbBenchResult {
  readonly workload: string;
  readonly raw: Measurement;
  readonly tessera: Measurement;
  /** Tessera's ops/s over raw's in each pair of adjacent slices. */
  readonly sliceRatios: number[];
}

const VALUE_BYTES = 100;
const BATCH_OPS = 1000;
const IN_FLIGHT = 64;
const SCAN_KEYS = 10_000;

/** 16-byte keys: a 4-byte tag then a big-endian counter, so puts spread like real tuple keys. */
function key(i: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(16);
  out.set([0x4f, 0x11, 0x22, 0x33]);
  const view = new DataView(out.buffer);
  // Scramble the counter so inserts do not all land at the end of the B-tree.
  view.setUint32(4, Math.imul(i, 0x9e3779b1) >>> 0);
  view.setUint32(12, i >>> 0);
  return out;
}

function value(i: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(VALUE_BYTES);
  out.fill(i & 0xff);
  return out;
}

/** A measurement where each call did `perCall` records. */
function perRecord(m: Measurement, perCall: number): Measurement {
  return { ...m, ops: m.ops * perCall, opsPerSec: m.opsPerSec * perCall };
}

interface Pair {
  readonly raw: IDBPDatabase;
  readonly tessera: Store;
  readonly names: readonly [string, string];
}

async function openPair(label: string): Promise<Pair> {
  const names = [
    `bench-raw-${label}-${crypto.randomUUID()}`,
    `bench-tessera-${label}-${crypto.randomUUID()}`,
  ] as const;
  const raw = await openDB(names[0], 1, {
    upgrade(db) {
      db.createObjectStore(IDB_OBJECT_STORE);
    },
  });
  const tessera = await openIndexedDbStore(names[1]);
  return { raw, tessera, names };
}

async function closePair(pair: Pair): Promise<void> {
  pair.raw.close();
  await pair.tessera.close();
  await deleteDB(pair.names[0]);
  await deleteIndexedDbStore(pair.names[1]);
}

/** Fills both stores with `count` records so reads have something to find. */
async function fill(pair: Pair, count: number): Promise<void> {
  for (let start = 0; start < count; start += BATCH_OPS) {
    const tx = pair.raw.transaction(IDB_OBJECT_STORE, 'readwrite');
    const ops = [];
    for (let i = start; i < Math.min(count, start + BATCH_OPS); i++) {
      tx.store.put(value(i), key(i));
      ops.push({ type: 'put' as const, key: key(i), value: value(i) });
    }
    await tx.done;
    await pair.tessera.batch(ops);
  }
}

/**
 * Each side runs in short slices, the two alternating (and taking turns going
 * first), so load from other processes hits both alike.
 */
const SLICE_MS = 100;

/** Adds up rounds into one measurement (total records over total time). */
function combine(name: string, parts: readonly Measurement[]): Measurement {
  const ops = parts.reduce((sum, m) => sum + m.ops, 0);
  const elapsedMs = parts.reduce((sum, m) => sum + m.elapsedMs, 0);
  return { name, ops, elapsedMs, opsPerSec: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0 };
}

async function workload(
  name: string,
  config: IdbBenchConfig,
  perCall: number,
  raw: (pair: Pair, i: number) => Promise<unknown>,
  tessera: (pair: Pair, i: number) => Promise<unknown>,
  prepare?: (pair: Pair) => Promise<void>,
): Promise<IdbBenchResult> {
  const pair = await openPair(name.replace(/\W+/g, '-'));
  try {
    await prepare?.(pair);
    const rawParts: Measurement[] = [];
    const tesseraParts: Measurement[] = [];
    // Call indexes keep counting across rounds so puts keep writing new keys.
    let rawCalls = 0;
    let tesseraCalls = 0;
    const rounds = Math.max(4, Math.round(config.durationMs / SLICE_MS));
    for (let round = 0; round < rounds; round++) {
      const options = { durationMs: config.durationMs / rounds, warmupMs: round === 0 ? config.warmupMs : 0 };
      const measureRaw = async () => {
        const start = rawCalls;
        const m = await measureAsync(name, (i) => raw(pair, start + i), options);
        rawCalls += m.ops + 100_000;
        rawParts.push(m);
      };
      const measureTessera = async () => {
        const start = tesseraCalls;
        const m = await measureAsync(name, (i) => tessera(pair, start + i), options);
        tesseraCalls += m.ops + 100_000;
        tesseraParts.push(m);
      };
      if (round % 2 === 0) {
        await measureRaw();
        await measureTessera();
      } else {
        await measureTessera();
        await measureRaw();
      }
    }
    return {
      workload: name,
      raw: perRecord(combine(`raw idb: ${name}`, rawParts), perCall),
      tessera: perRecord(combine(`tessera: ${name}`, tesseraParts), perCall),
      sliceRatios: rawParts.map((raw, i) => tesseraParts[i]!.opsPerSec / raw.opsPerSec),
    };
  } finally {
    await closePair(pair);
  }
}

const strict = { durability: 'strict' } as const;

/** Runs every workload and returns the pairs of results. */
export async function tesseraIdbBench(config: IdbBenchConfig): Promise<IdbBenchResult[]> {
  const results: IdbBenchResult[] = [];
  results.push(
    await workload(
      'single put (durable, awaited)',
      config,
      1,
      async ({ raw }, i) => {
        const tx = raw.transaction(IDB_OBJECT_STORE, 'readwrite', strict);
        tx.store.put(value(i), key(i));
        await tx.done;
      },
      ({ tessera }, i) => tessera.put(key(i), value(i)),
    ),
  );
  results.push(
    await workload(
      `batched put (${BATCH_OPS} per batch, durable)`,
      config,
      BATCH_OPS,
      async ({ raw }, call) => {
        const tx = raw.transaction(IDB_OBJECT_STORE, 'readwrite', strict);
        for (let i = call * BATCH_OPS; i < (call + 1) * BATCH_OPS; i++) tx.store.put(value(i), key(i));
        await tx.done;
      },
      ({ tessera }, call) => {
        const ops = [];
        for (let i = call * BATCH_OPS; i < (call + 1) * BATCH_OPS; i++)
          ops.push({ type: 'put' as const, key: key(i), value: value(i) });
        return tessera.batch(ops);
      },
    ),
  );
  results.push(
    await workload(
      `concurrent durable puts (${IN_FLIGHT} in flight)`,
      config,
      IN_FLIGHT,
      ({ raw }, call) => {
        const writes = [];
        for (let i = call * IN_FLIGHT; i < (call + 1) * IN_FLIGHT; i++) {
          const tx = raw.transaction(IDB_OBJECT_STORE, 'readwrite', strict);
          tx.store.put(value(i), key(i));
          writes.push(tx.done);
        }
        return Promise.all(writes);
      },
      ({ tessera }, call) => {
        const writes = [];
        for (let i = call * IN_FLIGHT; i < (call + 1) * IN_FLIGHT; i++)
          writes.push(tessera.put(key(i), value(i)));
        return Promise.all(writes);
      },
    ),
  );
  results.push(
    await workload(
      `point get (${SCAN_KEYS} keys)`,
      config,
      1,
      ({ raw }, i) => raw.get(IDB_OBJECT_STORE, key((i * 7919) % SCAN_KEYS)),
      ({ tessera }, i) => tessera.get(key((i * 7919) % SCAN_KEYS)),
      (pair) => fill(pair, SCAN_KEYS),
    ),
  );
  results.push(
    await workload(
      `scan ${SCAN_KEYS} keys`,
      config,
      SCAN_KEYS,
      async ({ raw }) => {
        // The fastest plain-idb way to read a range with its keys: both lists in one transaction.
        const tx = raw.transaction(IDB_OBJECT_STORE);
        const [keys, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll()]);
        if (keys.length !== SCAN_KEYS || values.length !== SCAN_KEYS)
          throw new Error('raw scan came up short');
      },
      async ({ tessera }) => {
        let count = 0;
        for await (const _ of tessera.scan()) count++;
        if (count !== SCAN_KEYS) throw new Error('tessera scan came up short');
      },
      (pair) => fill(pair, SCAN_KEYS),
    ),
  );
  return results;
}

(globalThis as { tesseraIdbBench?: typeof tesseraIdbBench }).tesseraIdbBench = tesseraIdbBench;
