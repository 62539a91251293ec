/**
 * Real-process benchmark: N Node peers, each its own process, on loopback
 * TCP. Prints membership convergence time, message convergence time (publish
 * on one peer until every other peer has it) and node-state gossip volume
 * per peer per second. Run:
 *   node --conditions=source packages/peer/bench/processes.ts 3 5
 */
import { type PeerProcess, spawnPeerProcess } from '../src/testing/peer-process-control.ts';
import { waitFor } from '../src/testing/wait.ts';

const sizes = process.argv.slice(2).map(Number);
const MEASURE_MS = 5_000;
const PUBLISHES = 10;

interface Stats {
  network: {
    broadcastsReceived: number;
    broadcastBytesReceived: number;
    broadcastsSent: number;
    broadcastBytesSent: number;
  };
}

async function statsOf(peer: PeerProcess): Promise<Stats> {
  const seen = peer.events.length;
  peer.send({ cmd: 'stats' });
  return (await waitFor(() => peer.events.slice(seen).find((e) => e.event === 'stats'))) as unknown as Stats;
}

async function allUp(peers: PeerProcess[]): Promise<boolean> {
  const views = await Promise.all(
    peers.map(async (peer) => {
      const seen = peer.events.length;
      peer.send({ cmd: 'state' });
      return (await waitFor(() => peer.events.slice(seen).find((e) => e.event === 'state'))) as unknown as {
        members: { status: string; liveness: string }[];
      };
    }),
  );
  return views.every(
    (view) =>
      view.members.length === peers.length &&
      view.members.every((m) => m.status === 'up' && m.liveness === 'alive'),
  );
}

async function run(n: number): Promise<void> {
  const cluster = `bench-${n}-${Date.now()}`;
  const peers: PeerProcess[] = [];
  try {
    const first = await spawnPeerProcess({ cluster });
    peers.push(first);
    const seed = first.multiaddrs.filter((a) => !a.includes('/ws'));
    const rest = await Promise.all(
      Array.from({ length: n - 1 }, () => spawnPeerProcess({ cluster, bootstrap: seed })),
    );
    peers.push(...rest);
    const started = performance.now();
    await waitFor(() => allUp(peers), { timeoutMs: 60_000, intervalMs: 20 });
    const membershipMs = performance.now() - started;

    const before = await Promise.all(peers.map(statsOf));
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, MEASURE_MS));
    const after = await Promise.all(peers.map(statsOf));
    const seconds = (performance.now() - t0) / 1000;
    const perPeer = (pick: (s: Stats) => number) =>
      after.reduce((sum, s, i) => sum + pick(s) - pick(before[i] as Stats), 0) / n / seconds;
    const bytesIn = perPeer((s) => s.network.broadcastBytesReceived);
    const bytesOut = perPeer((s) => s.network.broadcastBytesSent);
    const msgsIn = perPeer((s) => s.network.broadcastsReceived);

    // Baseline: a raw gossipsub broadcast on the same processes and topic, no coordinator.
    const raw: number[] = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const origin = peers[i % n] as PeerProcess;
      const others = peers.filter((p) => p !== origin);
      const marks = others.map((p) => p.events.length);
      const text = `raw-${i}`;
      const t = performance.now();
      origin.send({ cmd: 'broadcast', text });
      await waitFor(
        () =>
          others.every((p, j) =>
            p.events.slice(marks[j]).some((e) => e.event === 'broadcast' && e.text === text),
          ),
        { intervalMs: 1, timeoutMs: 30_000 },
      );
      raw.push(performance.now() - t);
    }
    raw.sort((x, y) => x - y);

    const latencies: number[] = [];
    for (let i = 0; i < PUBLISHES; i++) {
      const origin = peers[i % n] as PeerProcess;
      const others = peers.filter((p) => p !== origin);
      const marks = others.map((p) => p.events.length);
      const payload = `bench-${i}`;
      const t = performance.now();
      origin.send({ cmd: 'publish', payload });
      await waitFor(
        () =>
          others.every((p, j) =>
            p.events.slice(marks[j]).some((e) => e.event === 'message' && e.payload === payload),
          ),
        { intervalMs: 1, timeoutMs: 30_000 },
      );
      latencies.push(performance.now() - t);
    }
    latencies.sort((x, y) => x - y);
    const median = latencies[Math.floor(latencies.length / 2)] ?? Number.NaN;
    const max = latencies.at(-1) ?? Number.NaN;
    console.log(
      `${n} processes: membership converged ${membershipMs.toFixed(0)} ms after all were listening; ` +
        `coordinator message reaches all peers median ${median.toFixed(1)} ms, max ${max.toFixed(1)} ms ` +
        `(baseline raw gossip median ${(raw[Math.floor(raw.length / 2)] ?? Number.NaN).toFixed(1)} ms; ${PUBLISHES} each); ` +
        `node-state gossip per peer: ${bytesOut.toFixed(0)} B/s sent, ${bytesIn.toFixed(0)} B/s received ` +
        `(${msgsIn.toFixed(2)} msgs/s, payload bytes, statePeriodMs 1000)`,
    );
  } finally {
    await Promise.all(peers.map((p) => p.kill()));
  }
}

for (const n of sizes.length > 0 ? sizes : [3, 5]) await run(n);
