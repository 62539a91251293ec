/**
 * Filesystem storage suite: the Tessera fs store (LMDB) against raw lmdb-js
 * doing the same work on the same disk in the same run, plus the memory
 * backend for scale. 100k preloaded random 20-byte keys, 100-byte values.
 * Each workload alternates raw / fs / memory in short rounds so the shared
 * disk's drift hits them alike. Writes are durable (fsync) unless a row says
 * otherwise; reads of the raw engine are its natural synchronous calls.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BatchOp, openMemoryStore, type Store } from '@tessera/storage';
import { openFsStore } from '@tessera/storage-fs';
import { openRawLmdb, type RawEngine } from '../fs/engines.ts';
import {
  batchedAppend,
  batchedPut,
  concurrentPuts,
  inFlight,
  makeKeys,
  pointGet,
  preload,
  scan,
  singlePut,
  type Target,
} from '../fs/workloads.ts';
import {
  atLeastOpsPerSec,
  atLeastRatio,
  defaults,
  type Goal,
  type Measurement,
  printTable,
  type Row,
} from '../harness.ts';

const preloadCount = 100_000;
const rounds = 5;

function both(a: Goal, b: Goal): Goal {
  return { label: `${a.label}, ${b.label}`, met: (row, base) => a.met(row, base) && b.met(row, base) };
}

/** A Store driven through the workload surface. Batch op arrays are built once per input, outside the timing. */
function storeTarget(name: string, store: Store): Target {
  const ops = new WeakMap<object, BatchOp[]>();
  return {
    name,
    put: (key, value, durable) => store.put(key, value, { durable }),
    putMany: (entries, durable) => {
      let batch = ops.get(entries);
      if (!batch) {
        batch = entries.map(([key, value]) => ({ type: 'put', key, value }));
        ops.set(entries, batch);
      }
      return store.batch(batch, { durable });
    },
    get: (key) => store.get(key),
    scan: async (count, reverse) => {
      let n = 0;
      for await (const _ of store.scan({ limit: count, reverse })) n++;
      return n;
    },
  };
}

function rawTarget(engine: RawEngine): Target {
  return { ...engine, name: 'raw lmdb' };
}

/**
 * Runs `work` on every target in alternating rounds (A B C A B C …) and sums
 * each target's rounds, wall and CPU time apart, so drift in the shared
 * machine's load hits every target alike.
 */
async function interleaved(
  targets: readonly Target[],
  work: (t: Target, durationMs: number) => Promise<Measurement>,
): Promise<Measurement[]> {
  const totals = new Map<string, { name: string; ops: number; elapsedMs: number; cpuMs: number }>();
  for (let r = 0; r < rounds; r++) {
    for (const t of targets) {
      const m = await work(t, defaults.durationMs / rounds);
      const sum = totals.get(t.name) ?? { name: m.name, ops: 0, elapsedMs: 0, cpuMs: 0 };
      sum.ops += m.ops;
      sum.elapsedMs += m.elapsedMs;
      sum.cpuMs += m.opsPerCpuSec ? (m.ops * 1000) / m.opsPerCpuSec : Number.NaN;
      totals.set(t.name, sum);
    }
  }
  return targets.map((t): Measurement => {
    const { name, ops, elapsedMs, cpuMs } = totals.get(t.name)!;
    const m: Measurement = { name, ops, elapsedMs, opsPerSec: (ops * 1000) / elapsedMs };
    if (cpuMs > 0) m.opsPerCpuSec = (ops * 1000) / cpuMs;
    return m;
  });
}

export async function run(): Promise<void> {
  const rawDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-raw-'));
  const fsDir = await mkdtemp(path.join(os.tmpdir(), 'tessera-bench-fs-'));
  const raw = openRawLmdb(rawDir);
  const fsStore = await openFsStore(fsDir);
  const memory = await openMemoryStore();
  try {
    const targets = [rawTarget(raw), storeTarget('fs', fsStore), storeTarget('memory', memory)];
    const keys = makeKeys(preloadCount);
    for (const t of targets) await preload(t, keys);

    const workloads: { work: (t: Target, durationMs: number) => Promise<Measurement>; goal: Goal }[] = [
      { work: (t, ms) => singlePut(t, true, { durationMs: ms }), goal: atLeastRatio(0.8) },
      {
        work: (t, ms) => concurrentPuts(t, { durationMs: ms }),
        goal: both(atLeastOpsPerSec(50_000), atLeastRatio(0.8)),
      },
      {
        work: (t, ms) => batchedPut(t, true, { durationMs: ms }),
        goal: both(atLeastOpsPerSec(300_000), atLeastRatio(0.9)),
      },
      { work: (t, ms) => batchedPut(t, false, { durationMs: ms }), goal: atLeastRatio(0.9) },
      { work: (t, ms) => batchedAppend(t, true, { durationMs: ms }), goal: atLeastRatio(0.9) },
      {
        work: (t, ms) => pointGet(t, keys, { durationMs: ms }),
        goal: both(atLeastOpsPerSec(300_000), atLeastRatio(0.8)),
      },
      { work: (t, ms) => scan(t, false, { durationMs: ms }), goal: atLeastRatio(0.9) },
      { work: (t, ms) => scan(t, true, { durationMs: ms }), goal: atLeastRatio(0.9) },
    ];
    const rows: Row[] = [];
    for (const { work, goal } of workloads) {
      const [rawRow, fsRow, memoryRow] = await interleaved(targets, work);
      rows.push({ result: rawRow! });
      rows.push({ result: fsRow!, baseline: rawRow!.name, goal });
      rows.push({ result: memoryRow!, baseline: rawRow!.name });
    }
    printTable(
      `storage-fs: Tessera fs store (LMDB) vs raw lmdb-js, memory store for scale ` +
        `(ops/s; batches and scans per record; ${preloadCount / 1000}k keys preloaded; x${inFlight} = writers in flight)`,
      rows,
    );
  } finally {
    await fsStore.close();
    await raw.close();
    await memory.close();
    await rm(rawDir, { recursive: true, force: true });
    await rm(fsDir, { recursive: true, force: true });
  }
}
