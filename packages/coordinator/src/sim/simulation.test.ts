import { describe, expect, it } from 'vitest';
import { SimCluster } from './cluster.ts';
import { Prng } from './prng.ts';
import { Simulation, simulationSeed } from './simulation.ts';

const timing = {
  statePeriodMs: 500,
  suspectAfterMs: 2000,
  downAfterMs: 5000,
  syncPeriodMs: 2000,
  syncIntervalMinMs: 250,
  requestTimeoutMs: 1000,
};

interface Outcome {
  converged: boolean;
  published: number;
  scans: string[][];
  trace: string[];
  errors: readonly unknown[];
  convergedAtMs: number;
}

/**
 * Start `peers` peers over a faulty network, publish from random peers,
 * split the network in two and heal it, then run until quiet.
 */
async function scenario(seed: number, peers: number): Promise<Outcome> {
  const sim = new Simulation({ seed, delayMsMin: 1, delayMsMax: 80, dropRate: 0.05, duplicateRate: 0.05 });
  const cluster = await SimCluster.create(sim, { peers, timing });
  const rng = sim.fork();
  const trace: string[] = [];
  const publishes: Promise<unknown>[] = [];
  let published = 0;
  const publishSoon = (count: number, withinMs: number) => {
    for (let i = 0; i < count; i++) {
      const id = cluster.ids[rng.int(peers)]!;
      published += 1;
      sim.scheduler.after(rng.int(withinMs), () => {
        const c = cluster.coordinator(id);
        publishes.push(c.publish({ messageType: 'object', eventType: 'updated', payload: { n: i } }));
      });
    }
  };
  for (const id of cluster.ids) {
    cluster.coordinator(id).on('message', (e) => {
      if (id === 'p000') trace.push(`${sim.now}:${e.source}:${e.message.clock}/${e.message.from}`);
    });
  }

  await cluster.startAll(2000);
  publishSoon(60, 3000);
  await sim.runFor(3000);

  const shuffled = cluster.ids.map((id) => ({ id, k: rng.next() }));
  shuffled.sort((a, b) => a.k - b.k);
  const half = Math.floor(peers / 2);
  sim.partition([shuffled.slice(0, half).map((x) => x.id), shuffled.slice(half).map((x) => x.id)]);
  publishSoon(40, 8000);
  await sim.runFor(timing.downAfterMs * 2);

  sim.heal();
  await sim.runFor(3000);
  sim.setFaults({ dropRate: 0, duplicateRate: 0 });
  const converged = await sim.runUntil(() => cluster.membershipConverged() && cluster.logsAgree(), {
    timeMsMax: 60_000,
    checkEveryMs: 250,
  });
  await Promise.all(publishes);
  const scans = await cluster.logScans();
  await cluster.stopAll();
  return { converged, published, scans, trace, errors: sim.errors, convergedAtMs: sim.now };
}

function expectConverged(seed: number, outcome: Outcome): void {
  const replay = `seed ${seed}: replay with TESSERA_SIM_SEED=${seed}`;
  expect(outcome.errors, replay).toEqual([]);
  expect(outcome.converged, replay).toBe(true);
  for (const scan of outcome.scans) expect(scan, replay).toEqual(outcome.scans[0]);
  expect(outcome.scans[0]!.length, replay).toBe(outcome.published);
}

describe('deterministic simulation', () => {
  it('50 peers with drops, duplicates and a healed partition agree on membership and the ordered log', async () => {
    const seed = simulationSeed();
    const outcome = await scenario(seed, 50);
    if (!outcome.converged)
      console.error(`simulation did not converge; seed ${seed} (TESSERA_SIM_SEED=${seed})`);
    expectConverged(seed, outcome);
  });

  it('converges for several seeds', async () => {
    const base = new Prng(simulationSeed());
    for (let i = 0; i < 3; i++) {
      const seed = base.nextUint32();
      const outcome = await scenario(seed, 12);
      if (!outcome.converged)
        console.error(`simulation did not converge; seed ${seed} (TESSERA_SIM_SEED=${seed})`);
      expectConverged(seed, outcome);
    }
  });

  it('the same seed replays the same run', async () => {
    const seed = simulationSeed();
    const a = await scenario(seed, 8);
    const b = await scenario(seed, 8);
    expect(b.trace, `seed ${seed}`).toEqual(a.trace);
    expect(b.convergedAtMs).toBe(a.convergedAtMs);
    expect(a.trace.length).toBeGreaterThan(0);
  });
});

describe('Prng', () => {
  it('is a deterministic function of its seed and spreads over [0, 1)', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c.next())).not.toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const buckets = new Array(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)] += 1;
    for (const n of buckets) expect(n).toBeGreaterThan(50);
  });
});
