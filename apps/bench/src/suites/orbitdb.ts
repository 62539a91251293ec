/**
 * OrbitDB anchor suite: the same key-value workload on OrbitDB (its
 * keyvalue database, @orbitdb/core 4 on Helia 6, two Node peers over TCP
 * loopback, LevelDB blockstores) and on Tessera (two Node peers over TCP
 * loopback, filesystem stores, both owning every slot), in this run.
 *
 * Tessera's side starts once both peers are quiet (a fresh pair settles its
 * slot map for a few seconds), as OrbitDB's starts once its databases are open.
 *
 * Workload: `writes` puts of 100-byte-ish string values from peer 1 with
 * `clients` calls in flight; then point reads of older keys on peer 1 for a
 * bounded time; and the time from the last acknowledged write until peer 2
 * holds every key. Tessera writes use consistency `one` (acknowledged by
 * one durable owner, replicated to the other in the background), the same
 * promise OrbitDB's local `put` makes. "Peer 2 has everything" is, for
 * OrbitDB, `db.all()` on peer 2 listing every key; for Tessera, peer 2's
 * own replica having durably stored every key (counted by its change events, `peer.watch`).
 *
 * Goals (issue 10): Tessera >= 100x OrbitDB's write rate, >= 1000x its read
 * rate, and peer 2 complete within 100 ms of the last write.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { gossipsub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { tcp } from '@libp2p/tcp';
import { createOrbitDB, IPFSAccessController } from '@orbitdb/core';
import { createPeer, type Peer } from '@tessera/peer';
import { StaticPlacement } from '@tessera/replication/testing';
import { openFsStore } from '@tessera/storage-fs';
import { waitFor } from '@tessera/testing';
import { LevelBlockstore } from 'blockstore-level';
import { createHelia } from 'helia';
import { createLibp2p } from 'libp2p';

/** The workload is 2000 writes; `ORBITDB_BENCH_WRITES` shrinks it on a loaded machine. */
const writes = Number(process.env.ORBITDB_BENCH_WRITES ?? 2000);
if (!Number.isSafeInteger(writes) || writes < 2)
  throw new RangeError('ORBITDB_BENCH_WRITES must be an integer >= 2');
const clients = 32;
/** Read phase length per system (OrbitDB reads of older keys are slow: a few per second). */
const readPhaseMs = 5000;
const writeRatioGoal = 100;
const readRatioGoal = 1000;
const completeGoalMs = 100;
const completeTimeoutMs = 120_000;

interface Result {
  readonly writesPerSec: number;
  readonly readsPerSec: number;
  readonly reads: number;
  /** From the last acknowledged write until peer 2 has every key; NaN when it never did. */
  readonly completeMs: number;
}

/** This process using less than this fraction of a core is idle (heartbeats and gossip only). */
const quietCpuFraction = 0.1;

/** The fraction of one core this process used over the next `windowMs`. */
async function cpuBusy(windowMs: number): Promise<number> {
  const before = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, windowMs));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / windowMs;
}

const keyOf = (i: number) => `key-${i.toString().padStart(6, '0')}`;
const benchValue = (i: number) => `value-${i}-${'x'.repeat(90)}`;

/** Runs `op(i)` for i in [0, count) with `inFlight` calls at a time; resolves with the wall time. */
async function closedLoop(
  count: number,
  inFlight: number,
  op: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < count) await op(next++);
    }),
  );
  return performance.now() - start;
}

/** Reads older keys (the first half) for `readPhaseMs`; at least one read. */
async function readPhase(
  read: (key: string) => Promise<unknown>,
): Promise<{ reads: number; perSec: number }> {
  let reads = 0;
  const start = performance.now();
  const deadline = start + readPhaseMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = c; performance.now() < deadline || reads === 0; i += clients) {
        const value = await read(keyOf(i % (writes / 2)));
        if (value === undefined) throw new Error(`read of ${keyOf(i % (writes / 2))} found nothing`);
        reads++;
      }
    }),
  );
  return { reads, perSec: reads / ((performance.now() - start) / 1000) };
}

async function orbitNode(dir: string) {
  const libp2p = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify(), pubsub: gossipsub({ allowPublishToZeroTopicPeers: true }) },
  });
  const ipfs = await createHelia({ libp2p, blockstore: new LevelBlockstore(join(dir, 'blocks')) });
  const orbitdb = await createOrbitDB({ ipfs, directory: join(dir, 'orbitdb') });
  return { libp2p, ipfs, orbitdb };
}

async function runOrbitDb(dir: string): Promise<Result> {
  const one = await orbitNode(join(dir, 'one'));
  const two = await orbitNode(join(dir, 'two'));
  try {
    await two.libp2p.dial(one.libp2p.getMultiaddrs()[0]!);
    const db1 = await one.orbitdb.open('bench-kv', {
      type: 'keyvalue',
      AccessController: IPFSAccessController({ write: ['*'] }),
    });
    const db2 = await two.orbitdb.open(db1.address);
    const writeMs = await closedLoop(writes, clients, (i) => db1.put(keyOf(i), benchValue(i)));
    const lastWriteAt = performance.now();
    const completeMs = await waitFor(
      async () => ((await db2.all()).length === writes ? performance.now() : false),
      {
        timeoutMs: completeTimeoutMs,
        intervalMs: 20,
        what: 'OrbitDB peer 2 to list every key',
      },
    ).then(
      (at) => at - lastWriteAt,
      () => Number.NaN,
    );
    const read = await readPhase((key) => db1.get(key));
    await db2.close();
    await db1.close();
    return {
      writesPerSec: writes / (writeMs / 1000),
      readsPerSec: read.perSec,
      reads: read.reads,
      completeMs,
    };
  } finally {
    for (const node of [two, one]) {
      await node.orbitdb.stop();
      await node.ipfs.stop();
    }
  }
}

async function runTessera(dir: string): Promise<Result> {
  const cluster = `bench-orbit-${crypto.randomUUID()}`;
  const prefix = 'key-';
  let arrived = 0;
  const seen = new Set<string>();
  const store1 = await openFsStore(join(dir, 'tessera-one'));
  const store2 = await openFsStore(join(dir, 'tessera-two'));
  const peers: Peer[] = [];
  try {
    const p1 = await createPeer({ storage: store1, cluster });
    peers.push(p1);
    const p2 = await createPeer({ storage: store2, cluster, bootstrap: [p1.multiaddrs[0]!] });
    peers.push(p2);
    // Peer 2's change events: each fires once its replica durably holds a new version.
    p2.watch((change) => {
      const name = change.keyText;
      if (name?.startsWith(prefix) && !seen.has(name)) {
        seen.add(name);
        arrived++;
      }
    });
    for (const peer of peers) peer.placement.slots = new StaticPlacement([p1.id, p2.id], 2);
    await waitFor(() => p1.members().length === 2 && p2.members().length === 2, { what: 'two members' });
    // Steady state, as OrbitDB's side is measured once its databases are open: two fresh peers
    // commit their first slot map, then copy and check every slot, for seconds first.
    await waitFor(() => peers.every((peer) => peer.slotMap.map.epoch >= 1), {
      what: 'both Tessera peers on a committed slot map',
      timeoutMs: 120_000,
    });
    await waitFor(async () => (await cpuBusy(1000)) < quietCpuFraction, {
      what: 'the two Tessera peers quiet (startup work done)',
      timeoutMs: 120_000,
      intervalMs: 1,
    });
    const writeMs = await closedLoop(writes, clients, (i) =>
      p1.put(keyOf(i), benchValue(i), { consistency: 'one' }),
    );
    const lastWriteAt = performance.now();
    const completeMs = await waitFor(() => (arrived >= writes ? performance.now() : false), {
      timeoutMs: completeTimeoutMs,
      intervalMs: 1,
      what: 'Tessera peer 2 to hold every key',
    }).then(
      (at) => at - lastWriteAt,
      () => Number.NaN,
    );
    const read = await readPhase(async (key) => {
      const result = await p1.get(key, { consistency: 'one' });
      return result.found ? result.value : undefined;
    });
    return {
      writesPerSec: writes / (writeMs / 1000),
      readsPerSec: read.perSec,
      reads: read.reads,
      completeMs,
    };
  } finally {
    for (const peer of peers.reverse()) await peer.stop();
    await store2.close();
    await store1.close();
  }
}

export async function run(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'tessera-bench-orbitdb-'));
  try {
    const orbit = await runOrbitDb(dir);
    const tessera = await runTessera(dir);
    const fmt = (n: number) => (Number.isNaN(n) ? 'n/a' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
    const status = (met: boolean) => (met ? 'met' : 'NOT MET');
    const writeRatio = tessera.writesPerSec / orbit.writesPerSec;
    const readRatio = tessera.readsPerSec / orbit.readsPerSec;
    console.log(
      `## orbitdb (${writes} writes, ${clients} in flight, reads of older keys for ${readPhaseMs} ms)\n`,
    );
    console.log('| metric | OrbitDB 4 (Helia 6) | Tessera | ratio | goal | status |');
    console.log('| --- | ---: | ---: | ---: | --- | --- |');
    console.log(
      `| writes/s | ${fmt(orbit.writesPerSec)} | ${fmt(tessera.writesPerSec)} | ${writeRatio.toFixed(1)}x | >= ${writeRatioGoal}x | ${status(writeRatio >= writeRatioGoal)} |`,
    );
    console.log(
      `| point reads/s (older keys) | ${fmt(orbit.readsPerSec)} (${orbit.reads} reads) | ${fmt(tessera.readsPerSec)} | ${readRatio.toFixed(0)}x | >= ${readRatioGoal}x | ${status(readRatio >= readRatioGoal)} |`,
    );
    console.log(
      `| last write -> peer 2 has all, ms | ${fmt(orbit.completeMs)} | ${fmt(tessera.completeMs)} | ${(orbit.completeMs / tessera.completeMs).toFixed(0)}x faster | Tessera <= ${completeGoalMs} ms | ${status(tessera.completeMs <= completeGoalMs)} |`,
    );
    console.log('');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
