/**
 * IndexedDB suite: Tessera's IndexedDB store against raw `idb` doing the same
 * operations in the same Chromium page and run (see src/idb/).
 */
import { atLeastOpsPerSec, atLeastRatio, defaults, type Goal, printTable, type Row } from '../harness.ts';
import { runIdbBench } from '../idb/runner.ts';

function both(a: Goal, b: Goal): Goal {
  return { label: `${a.label}, ${b.label}`, met: (row, base) => a.met(row, base) && b.met(row, base) };
}

/** >= 0.9x raw for batched work (plus >= 50k/s for batched puts), >= 0.8x for single ops. */
function goalFor(workload: string): Goal {
  if (workload.startsWith('batched put')) return both(atLeastOpsPerSec(50_000), atLeastRatio(0.9));
  if (workload.startsWith('single put') || workload.startsWith('point get')) return atLeastRatio(0.8);
  return atLeastRatio(0.9);
}

export async function run(): Promise<void> {
  const { results, browser } = await runIdbBench({
    durationMs: defaults.durationMs,
    warmupMs: defaults.warmupMs,
  });
  const rows: Row[] = [];
  for (const { workload, raw, tessera } of results) {
    rows.push({ result: raw });
    rows.push({ result: tessera, baseline: raw.name, goal: goalFor(workload) });
  }
  printTable(
    `storage-idb: Tessera IndexedDB store vs raw idb (${browser}, records/s, 100-byte values)`,
    rows,
  );
  // Slices alternate, so adjacent pairs saw the same machine load; their spread shows how noisy the run was.
  console.log('per-slice ratio tessera/raw: median (min-max, slices)');
  for (const { workload, sliceRatios } of results) {
    const sorted = [...sliceRatios].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
    const low = sorted[0] ?? Number.NaN;
    const high = sorted.at(-1) ?? Number.NaN;
    console.log(
      `  ${workload}: ${median.toFixed(2)}x (${low.toFixed(2)}-${high.toFixed(2)}, ${sorted.length})`,
    );
  }
  console.log('');
}
