/**
 * Migration suite: how fast slots move to a joining owner and how fast a
 * wiped owner is rebuilt, over real peer processes (fs stores, N=3, W=R=2,
 * the slot-map, coordinator and repair timing the peer tests use).
 *
 * 1. Three owner processes commit a slot map; K keys (default 100 000,
 *    `--keys N`) with 100-byte values are loaded straight into every owner's
 *    replica: each process mints a third of the records as a put's
 *    coordinating owner would and sends them in full `apply` frames (the
 *    peer process's `bulkLoad`). The load rate is printed, not a goal.
 * 2. Migration: a fourth owner starts; timed from its spawn until the map
 *    naming it commits on every peer, and from the first `slotcopy` job it
 *    records (the pre-ack copy) until its post-commit catch-up job is done.
 *    keys moved = records the new owner holds then.
 * 3. Repair: one of the first three owners is stopped, its data dir deleted
 *    and a fresh one seeded with only its identity record, and it restarts
 *    with the same peer id. Timed until anti-entropy has rebuilt it: its
 *    record count back to what it held before the wipe and the
 *    under-replicated count 0 on every peer.
 *
 * Baseline, same run: copying the same number of records (record value plus
 * slot-index entry, the two entries a replica keeps per key) between two fs
 * stores in this process: a full scan of one and batched writes into the
 * other. The ratio is what the protocol costs over moving the bytes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from '@tessera/coordinator';
import { encodeKey, encodeValue, keySlot } from '@tessera/core';
import {
  type PeerProcess,
  type PeerProcessConfig,
  spawnPeerProcess,
  testReplication,
  testSlotMap,
  testTiming,
  waitFor,
} from '@tessera/peer/testing';
import { mint, recordToWire } from '@tessera/replication';
import type { BatchOp } from '@tessera/storage';
import { openFsStore } from '@tessera/storage-fs';
import { atLeastOpsPerSec, defaults, type Measurement, printTable, type Row } from '../harness.ts';
import { waitForQuietPeers } from '../quiet.ts';

const valueBytes = 100;
const migrationGoalKeysPerSec = 50_000;
/** The peer's identity record (`S, 'identity'`, @tessera/peer identity.ts): kept across the wipe. */
const identityKey = encodeKey('S', ['identity']);
/** Bounds, not expectations: a loaded 2-core machine is slow, and 1M keys take minutes. */
const phaseTimeoutMs = 15 * 60_000;

interface SlotMapView {
  readonly epoch: number;
  readonly owners: string[];
  readonly stats: unknown;
  /** Members this peer sees alive, and its coordinator log (diagnostics of a peer stuck behind). */
  readonly alive: number;
  readonly log: { readonly count: number; readonly clock: number };
}

/** A TCP port free right now on loopback (the OS picks it; a peer listens on it moments later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function rateOf(name: string, ops: number, elapsedMs: number): Measurement {
  return { name, ops, elapsedMs, opsPerSec: (ops * 1000) / Math.max(elapsedMs, 1) };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const suiteStarted = performance.now();
/** Progress on stderr, so a slow phase on a loaded machine can be told from a stuck one. */
const progress = (what: string) => console.error(`  [${seconds(performance.now() - suiteStarted)}] ${what}`);

/** Waits until every process has committed one epoch whose owners are exactly `ids`; resolves with it. */
async function waitForMap(processes: readonly PeerProcess[], ids: readonly string[]): Promise<number> {
  const wanted = JSON.stringify([...ids].sort());
  let reportedMs = performance.now();
  return waitFor(
    async () => {
      const views = await Promise.all(processes.map((p) => p.call<SlotMapView>({ cmd: 'slotMap' })));
      if (performance.now() - reportedMs > 30_000) {
        reportedMs = performance.now();
        const jobs = await Promise.all(
          processes.map((p) => p.call<Job[]>({ cmd: 'jobs', kind: 'slotcopy' })),
        );
        const brief = views.map((v, i) => ({
          epoch: v.epoch,
          owners: v.owners.map((o) => o.slice(-6)),
          stats: v.stats,
          slotcopy: jobs[i]!.map(
            (j) => `${j.status} ${j.progress.done}/${j.progress.total} ${seconds(j.updatedMs - j.createdMs)}`,
          ),
        }));
        progress(`still waiting for the map; views ${JSON.stringify(brief)}`);
      }
      const epoch = views[0]?.epoch ?? 0;
      if (epoch === 0 || !views.every((v) => v.epoch === epoch && JSON.stringify(v.owners) === wanted))
        return false;
      return epoch;
    },
    {
      what: `a slot map over ${ids.length} owners committed on every peer`,
      timeoutMs: phaseTimeoutMs,
      intervalMs: 100,
    },
  );
}

/** Each peer's count of under-replicated (slot, owner) marks. */
async function underReplicatedCounts(processes: readonly PeerProcess[]): Promise<number[]> {
  const counts = await Promise.all(
    processes.map((p) => p.call<{ count: number }>({ cmd: 'underReplicated' })),
  );
  return counts.map((c) => c.count);
}

/**
 * The raw copy: `keys` records' two entries (record, slot index) written into
 * one fs store, then scanned out of it and batch-written into another; only
 * the scan and the writes are timed.
 */
async function rawCopy(keys: number, dirs: string[]): Promise<Measurement> {
  const fromDir = await mkdtemp(join(tmpdir(), 'tessera-bench-mig-src-'));
  const toDir = await mkdtemp(join(tmpdir(), 'tessera-bench-mig-dst-'));
  dirs.push(fromDir, toDir);
  const from = await openFsStore(fromDir);
  const to = await openFsStore(toDir);
  try {
    const value = encodeValue(new Uint8Array(valueBytes).map((_, i) => (i * 31) & 0xff));
    const batchMax = Math.min(from.limits.batchOpsMax, to.limits.batchOpsMax);
    const encoder = new TextEncoder();
    let ops: BatchOp[] = [];
    for (let i = 0; i < keys; i++) {
      const userKey = encoder.encode(`raw-${i}`);
      const key = encodeKey('O', ['default', 'kv', userKey]);
      const { record } = mint([], {
        actor: 'bench~raw',
        clock: i + 1,
        payload: { bytes: value, mintedMs: Date.now() },
      });
      ops.push({ type: 'put', key, value: encodeValue(recordToWire(record)) });
      ops.push({
        type: 'put',
        key: encodeKey('S', ['repl.slot', keySlot(userKey), i & 0xffff, key]),
        value: new Uint8Array(0),
      });
      if (ops.length >= batchMax) {
        await from.batch(ops);
        ops = [];
      }
    }
    if (ops.length > 0) await from.batch(ops);
    ops = [];
    const started = performance.now();
    let entries = 0;
    for await (const entry of from.scan()) {
      ops.push({ type: 'put', key: entry.key, value: entry.value });
      entries += 1;
      if (ops.length >= batchMax) {
        await to.batch(ops, { durable: true });
        ops = [];
      }
    }
    if (ops.length > 0) await to.batch(ops, { durable: true });
    const elapsedMs = performance.now() - started;
    if (entries < 2 * keys) throw new Error(`raw copy saw ${entries} entries, wanted ${2 * keys}`);
    return rateOf('raw fs-store copy (scan + batch write)', keys, elapsedMs);
  } finally {
    await from.close();
    await to.close();
  }
}

export async function run(): Promise<void> {
  const keys = defaults.keys ?? 100_000;
  const dirs: string[] = [];
  const processes: PeerProcess[] = [];
  const cluster = `bench-migration-${process.pid}`;
  const configOf = (dataDir: string, bootstrap: string[], listen?: string[]): PeerProcessConfig => ({
    cluster,
    dataDir,
    bootstrap,
    ...(listen === undefined ? {} : { listen }),
    timing: testTiming,
    replication: testReplication,
    slotMap: testSlotMap,
  });
  const spawnOwner = async (dataDir: string, bootstrap: string[]) => {
    const child = await spawnPeerProcess(configOf(dataDir, bootstrap));
    processes.push(child);
    return child;
  };
  try {
    const baseline = await rawCopy(keys, dirs);
    progress(`raw copy: ${keys} records in ${seconds(baseline.elapsedMs)}`);

    // All three start at once, each knowing the others' addresses: started one by one on a loaded
    // machine, the first proposes a map of itself alone long before the others are up.
    const firstDirs: string[] = [];
    const ports = await Promise.all([0, 1, 2].map(() => freePort()));
    const addressOf = (port: number) => `/ip4/127.0.0.1/tcp/${port}`;
    for (let p = 0; p < 3; p++) {
      const dataDir = await mkdtemp(join(tmpdir(), 'tessera-bench-mig-'));
      dirs.push(dataDir);
      firstDirs.push(dataDir);
    }
    const started = await Promise.all(
      ports.map((port, p) =>
        spawnPeerProcess(
          configOf(firstDirs[p]!, ports.filter((other) => other !== port).map(addressOf), [addressOf(port)]),
        ),
      ),
    );
    processes.push(...started);
    const seed = processes[0]!.multiaddrs.filter((a) => !a.includes('/ws'));
    const firstIds = processes.map((p) => p.id);
    progress('three owners started');
    const firstEpoch = await waitForMap(processes, firstIds);
    progress(`map epoch ${firstEpoch} committed`);

    // Load: each process mints a third and applies it to all three owners.
    const loadStarted = performance.now();
    const share = Math.ceil(keys / 3);
    await Promise.all(
      processes.map((child, p) => {
        const from = p * share;
        const count = Math.max(0, Math.min(share, keys - from));
        return child.call(
          { cmd: 'bulkLoad', bulk: { prefix: 'mig-', from, count, valueBytes } },
          phaseTimeoutMs,
        );
      }),
    );
    const loadMs = performance.now() - loadStarted;
    progress('loaded');
    const loadedCounts = await Promise.all(
      processes.map((p) => p.call<number>({ cmd: 'recordCount' }, phaseTimeoutMs)),
    );
    const load = rateOf('bulk load (mint + apply to 3 owners)', keys, loadMs);
    console.log(
      `  loaded ${keys} keys in ${seconds(loadMs)}; records per owner ${loadedCounts.join(', ')} (map epoch ${firstEpoch})`,
    );
    // Anti-entropy passes that ran during the load (digests differ while applies are in flight) go on
    // repairing for seconds after it: the migration is timed from an idle cluster.
    await waitForQuietPeers(processes, 'every owner quiet after the load', phaseTimeoutMs);
    progress('quiet');

    // Migration: a fourth owner joins.
    const joinDir = await mkdtemp(join(tmpdir(), 'tessera-bench-mig-'));
    dirs.push(joinDir);
    const joinStarted = performance.now();
    const joiner = await spawnOwner(joinDir, seed);
    const readyMs = performance.now() - joinStarted;
    progress('fourth owner started');
    const secondEpoch = await waitForMap(processes, [...firstIds, joiner.id]);
    progress(`map epoch ${secondEpoch} committed`);
    const committedMs = performance.now() - joinStarted;
    const copyJobs = await waitFor(
      async () => {
        const jobs = await joiner.call<Job[]>({ cmd: 'jobs', kind: 'slotcopy' });
        const open = jobs.some((j) => j.status === 'running' || j.status === 'pending');
        return !open && jobs.filter((j) => j.status === 'done').length >= 2 ? jobs : false;
      },
      {
        what: "the new owner's pre-ack copy and post-commit catch-up done",
        timeoutMs: phaseTimeoutMs,
        intervalMs: 100,
      },
    );
    const copiedMs = performance.now() - joinStarted;
    const moved = await joiner.call<number>({ cmd: 'recordCount' }, phaseTimeoutMs);
    const byCreation = [...copyJobs].sort((a, b) => a.createdMs - b.createdMs);
    const copyStartMs = byCreation[0]!.createdMs;
    const copyEndMs = Math.max(...byCreation.filter((j) => j.status === 'done').map((j) => j.updatedMs));
    for (const job of byCreation)
      console.log(
        `  slotcopy job ${job.status}: ${job.progress.done}/${job.progress.total} slots, ${seconds(job.updatedMs - job.createdMs)}` +
          (job.error === null ? '' : ` (${job.error.slice(0, 160)})`),
      );
    console.log(
      `  join: ready ${seconds(readyMs)}, map epoch ${firstEpoch} -> ${secondEpoch} on every peer ${seconds(committedMs)}, ` +
        `copies done ${seconds(copiedMs)} after spawn; ${moved} records on the new owner`,
    );
    const migrationCopy = rateOf('migration: keys moved / copy time (jobs)', moved, copyEndMs - copyStartMs);
    const migrationTotal = rateOf('migration: keys moved / spawn -> copied', moved, copiedMs);

    // Repair: wipe the third owner and restart it with its identity only, once the join's aftermath
    // (anti-entropy onto the new owner, reclaiming the slots it took) is over.
    await waitForQuietPeers(processes, 'every owner quiet after the join', phaseTimeoutMs);
    const victim = processes[2]!;
    const victimDir = firstDirs[2]!;
    // Only the slots it owns now: a peer keeps the records of the slots the join took from it, and the
    // rebuild brings back only what it owns.
    const before = await victim.call<number>({ cmd: 'recordCount', owned: true }, phaseTimeoutMs);
    await victim.stop(60_000);
    processes.splice(processes.indexOf(victim), 1);
    const old = await openFsStore(victimDir);
    const identity = await old.get(identityKey);
    await old.close();
    if (identity === undefined) throw new Error('the wiped peer had no identity record');
    await rm(victimDir, { recursive: true, force: true });
    const wipedDir = await mkdtemp(join(tmpdir(), 'tessera-bench-mig-'));
    dirs.push(wipedDir);
    const fresh = await openFsStore(wipedDir);
    await fresh.put(identityKey, identity, { durable: true });
    await fresh.close();
    const repairStarted = performance.now();
    const rebuilt = await spawnOwner(wipedDir, seed);
    progress('wiped owner restarted');
    if (rebuilt.id !== victim.id) throw new Error('the restarted peer came back with another id');
    const rebuiltReadyMs = performance.now() - repairStarted;
    let repairReportedMs = performance.now();
    await waitFor(
      async () => {
        const marks = await underReplicatedCounts(processes);
        const under = marks.reduce((sum, count) => sum + count, 0);
        const report = performance.now() - repairReportedMs > 10_000;
        // Counting scans the rebuilt peer's whole slot index: only when it can end the wait or is
        // reported (polling it every 250 ms took a third of that peer's CPU away from the repair).
        if (under > 0 && !report) return false;
        const count = await rebuilt.call<number>({ cmd: 'recordCount', owned: true }, phaseTimeoutMs);
        if (report) {
          repairReportedMs = performance.now();
          const views = await Promise.all(processes.map((p) => p.call<SlotMapView>({ cmd: 'slotMap' })));
          const peers = views.map(
            ({ epoch, alive, log }, i) =>
              `${processes[i]!.id.slice(-6)} epoch ${epoch} under ${marks[i]} alive ${alive} log ${log.count}@${log.clock}`,
          );
          // The rebuilt peer's own slot-map side (spawnOwner added it to `processes`): what it has
          // proposed, acked, refused, and its copies.
          const own = views[processes.indexOf(rebuilt)];
          const copies = (await rebuilt.call<Job[]>({ cmd: 'jobs', kind: 'slotcopy' })).map(
            (job) => `${job.status} ${job.progress.done}/${job.progress.total}`,
          );
          progress(
            `rebuilding: ${count} of ${before} records back, ${under} under-replicated (slot, owner) marks; ${peers.join(', ')}; ` +
              `rebuilt peer slot map ${JSON.stringify(own?.stats)} copies [${copies.join(', ')}]`,
          );
        }
        return count >= before && under === 0;
      },
      {
        what: 'the wiped owner rebuilt and nothing under-replicated',
        timeoutMs: phaseTimeoutMs,
        intervalMs: 250,
      },
    );
    const repairedMs = performance.now() - repairStarted;
    const views = await Promise.all(processes.map((p) => p.call<SlotMapView>({ cmd: 'slotMap' })));
    console.log(
      `  repair: ${before} records of its slots before the wipe; ready ${seconds(rebuiltReadyMs)}, rebuilt ${seconds(repairedMs)} after spawn; ` +
        `map epochs now ${[...new Set(views.map((v) => v.epoch))].join(', ')}`,
    );
    const repair = rateOf('repair: keys rebuilt / spawn -> rebuilt', before, repairedMs);

    const rows: Row[] = [
      { result: baseline },
      { result: load, baseline: baseline.name },
      { result: migrationCopy, baseline: baseline.name, goal: atLeastOpsPerSec(migrationGoalKeysPerSec) },
      { result: migrationTotal, baseline: baseline.name },
      { result: repair, baseline: baseline.name },
    ];
    printTable(
      `migration: ${keys} keys, ${valueBytes}-byte values, 3 -> 4 owner processes (fs stores, N=3), then one owner wiped ` +
        '(keys/s; wall time)',
      rows,
    );
  } finally {
    await Promise.all(processes.map((child) => child.stop()));
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
