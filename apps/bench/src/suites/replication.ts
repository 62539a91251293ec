/**
 * Replication suite: three Node peers on loopback, each its own process with
 * a filesystem store, N=3. 50 closed-loop clients in total, spread over the
 * three processes (embedded clients: each calls its own peer's put/get),
 * 100-byte values (a CBOR byte string), each client on its own keys.
 *
 * Rows, all measured in this run:
 * - local store put/get: the same clients against each peer's own fs store
 *   (durable put): the baseline, what one peer does without the network;
 * - quorum put (W=2) / quorum get (R=2): the goal rows;
 * - put W=1 / get R=1: what a weaker consistency buys.
 * ops/s is the aggregate over the three processes; latency is per call,
 * measured where the client runs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LoadResult, type PeerProcess, spawnPeerProcess, waitFor } from '@tessera/peer/testing';
import { atLeastOpsPerSec, defaults, type Measurement, printTable, type Row } from '../harness.ts';
import { waitForQuietPeers } from '../quiet.ts';

const peers = 3;
const clientsTotal = 50;
const valueBytes = 100;
const keysPerClient = 200;
const writeGoalOpsPerSec = 20_000;
const readGoalOpsPerSec = 40_000;

type BenchOp = 'put' | 'get' | 'storePut' | 'storeGet';

function combine(name: string, results: readonly LoadResult[], durationMs: number): Measurement {
  const ops = results.reduce((sum, r) => sum + r.ops, 0);
  const errors = results.reduce((sum, r) => sum + r.errors, 0);
  const firstError = results.find((r) => r.firstError !== null)?.firstError;
  if (errors > 0) console.log(`  ${name}: ${errors} failed calls (first: ${firstError})`);
  const samples = results.flatMap((r) => r.latenciesUs).sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return {
    name,
    ops,
    elapsedMs: durationMs,
    opsPerSec: (ops * 1000) / durationMs,
    ...(samples.length === 0
      ? {}
      : { latencyUs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: samples[samples.length - 1]! } }),
  };
}

async function runEverywhere(
  processes: readonly PeerProcess[],
  name: string,
  op: BenchOp,
  consistency?: 'one' | 'quorum',
): Promise<Measurement> {
  const durationMs = defaults.durationMs;
  const warmupMs = defaults.warmupMs;
  const results = await Promise.all(
    processes.map((child, p) => {
      const clients = Math.floor(clientsTotal / peers) + (p < clientsTotal % peers ? 1 : 0);
      const bench = {
        op,
        clients,
        warmupMs,
        durationMs,
        valueBytes,
        keysPerClient,
        ...(consistency === undefined ? {} : { consistency }),
      };
      return child.call<LoadResult>({ cmd: 'bench', bench }, durationMs + warmupMs + 60_000);
    }),
  );
  return combine(name, results, durationMs);
}

export async function run(): Promise<void> {
  const dirs: string[] = [];
  const processes: PeerProcess[] = [];
  try {
    const replication = {
      defaults: { replicationFactor: 3, consistency: 'quorum' as const },
      limits: { requestTimeoutMs: 5000 },
    };
    for (let p = 0; p < peers; p++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bench-repl-'));
      dirs.push(dataDir);
      const bootstrap = processes[0]?.multiaddrs.filter((a) => !a.includes('/ws')) ?? [];
      processes.push(await spawnPeerProcess({ cluster: 'bench-repl', dataDir, bootstrap, replication }));
    }
    const ids = processes.map((child) => child.id).sort();
    await Promise.all(
      processes.map((child) => child.call({ cmd: 'placement', peers: ids, ownersPerSlot: 3 })),
    );
    await waitFor(
      async () => {
        for (const child of processes) {
          const members = await child.call<{ id: string; liveness: string }[]>({ cmd: 'members' });
          if (!ids.every((id) => members.some((m) => m.id === id && m.liveness === 'alive'))) return false;
        }
        return true;
      },
      { what: 'all three peers alive in every view', timeoutMs: 60_000 },
    );
    // Steady state: a fresh cluster commits its first slot map a few seconds after it forms, then
    // copies slots and runs an anti-entropy pass over every slot; measuring before that ends would
    // charge that one-off work to the first rows (one run measured 115 quorum puts/s so).
    await waitFor(
      async () => {
        const views = await Promise.all(
          processes.map((child) => child.call<{ epoch: number }>({ cmd: 'slotMap' })),
        );
        return views.every((view) => view.epoch >= 1);
      },
      { what: 'every peer on a committed slot map', timeoutMs: 120_000 },
    );
    await waitForQuietPeers(processes, 'every peer quiet (startup work done)');

    const rows: Row[] = [];
    const storePut = await runEverywhere(processes, 'local fs store put (durable)', 'storePut');
    const quorumPut = await runEverywhere(processes, 'quorum put (W=2)', 'put', 'quorum');
    const onePut = await runEverywhere(processes, 'put W=1', 'put', 'one');
    const storeGet = await runEverywhere(processes, 'local fs store get', 'storeGet');
    const quorumGet = await runEverywhere(processes, 'quorum get (R=2)', 'get', 'quorum');
    const oneGet = await runEverywhere(processes, 'get R=1', 'get', 'one');
    rows.push({ result: storePut });
    rows.push({ result: quorumPut, baseline: storePut.name, goal: atLeastOpsPerSec(writeGoalOpsPerSec) });
    rows.push({ result: onePut, baseline: storePut.name });
    rows.push({ result: storeGet });
    rows.push({ result: quorumGet, baseline: storeGet.name, goal: atLeastOpsPerSec(readGoalOpsPerSec) });
    rows.push({ result: oneGet, baseline: storeGet.name });
    printTable(
      `replication: ${peers} Node peer processes on loopback (libp2p TCP+noise+yamux), N=3, ` +
        `${clientsTotal} clients, ${valueBytes}-byte values (aggregate ops/s, per-call latency)`,
      rows,
    );
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
