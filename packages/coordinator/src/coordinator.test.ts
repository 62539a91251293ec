import { InvalidArgumentError } from '@tessera/core';
import { describe, expect, it } from 'vitest';
import { type Coordinator, createCoordinator } from './coordinator.ts';
import { nodeStateKey } from './keys.ts';
import { SimCluster } from './sim/cluster.ts';
import { Simulation } from './sim/simulation.ts';
import type { MessageEvent } from './types.ts';

const timing = {
  statePeriodMs: 200,
  suspectAfterMs: 1000,
  downAfterMs: 3000,
  syncPeriodMs: 1000,
  syncIntervalMinMs: 100,
};

async function cluster(peers: number, seed = 7, faults = {}) {
  const sim = new Simulation({ seed, delayMsMin: 1, delayMsMax: 20, ...faults });
  const c = await SimCluster.create(sim, { peers, timing });
  return { sim, c };
}

/** Awaits `work` while the simulation runs 1 ms (simulated I/O only moves while it runs). */
async function settled<T>(sim: Simulation, work: Promise<T>): Promise<T> {
  await sim.runFor(1);
  return work;
}

async function collect(c: Coordinator): Promise<string[]> {
  const out: string[] = [];
  for await (const m of c.messages()) out.push(`${m.clock}/${m.from}/${m.messageType}`);
  return out;
}

describe('coordinator over the simulator', () => {
  it('publishes, stores under M keys and delivers to every peer in (clock, from) order', async () => {
    const { sim, c } = await cluster(4);
    await c.startAll();
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    const seen: MessageEvent[] = [];
    c.coordinator('p002').on('message', (e) => seen.push(e));
    const a = await c
      .coordinator('p000')
      .publish({ messageType: 'database', eventType: 'created', payload: { db: 'a' } });
    const b = await c
      .coordinator('p001')
      .publish({ messageType: 'database', eventType: 'created', payload: { db: 'b' } });
    await sim.runFor(100);
    expect(seen.map((e) => [e.message.from, e.source])).toEqual(
      expect.arrayContaining([
        ['p000', 'gossip'],
        ['p001', 'gossip'],
      ]),
    );
    expect(seen.find((e) => e.message.from === 'p000')!.message.payload).toEqual({ db: 'a' });
    // Receiving applies max + 1: the receiver's clock is beyond both.
    expect(c.coordinator('p002').clock).toBeGreaterThan(Math.max(a.clock, b.clock));
    const logs = await Promise.all(c.ids.map((id) => collect(c.coordinator(id))));
    for (const log of logs) expect(log).toEqual(logs[0]);
    const sorted = [...logs[0]!].sort((x, y) => {
      const [cx, fx] = x.split('/');
      const [cy, fy] = y.split('/');
      return Number(cx) - Number(cy) || (fx! < fy! ? -1 : fx! > fy! ? 1 : 0);
    });
    expect(logs[0]).toEqual(sorted);
    expect(logs[0]).toHaveLength(2);
    expect(sim.errors).toEqual([]);
  });

  it('a later message from a peer that received an earlier one has a higher clock', async () => {
    const { sim, c } = await cluster(3);
    await c.startAll();
    await sim.runFor(500);
    const first = await c.coordinator('p000').publish({ messageType: 'slotMap', eventType: 'updated' });
    await sim.runFor(100);
    const second = await c.coordinator('p001').publish({ messageType: 'slotMap', eventType: 'updated' });
    expect(second.clock).toBeGreaterThan(first.clock);
  });

  it('a peer that joins late catches up on every message', async () => {
    const { sim, c } = await cluster(4);
    // Start all but p003.
    for (const id of ['p000', 'p001', 'p002']) {
      await settled(sim, c.coordinator(id).start());
    }
    for (let i = 0; i < 600; i++) {
      await c.coordinator(`p00${i % 3}`).publish({ messageType: 'object', eventType: 'created', payload: i });
      if (i % 50 === 0) await sim.runFor(10);
    }
    await sim.runFor(500);
    const late = c.coordinator('p003');
    await settled(sim, late.start());
    expect(late.logSummary().count).toBe(0);
    expect(await sim.runUntil(() => late.logSummary().count === 600, { timeMsMax: 5000 })).toBe(true);
    expect(late.stats().pulled).toBe(600);
    expect(await collect(late)).toEqual(await collect(c.coordinator('p000')));
    expect(late.self().status).toBe('up');
  });

  it('catch-up finds messages lost to gossip drops', async () => {
    const { sim, c } = await cluster(5, 11, { dropRate: 0.5 });
    await c.startAll();
    for (let i = 0; i < 40; i++) {
      await c.coordinator(`p00${i % 5}`).publish({ messageType: 'object', eventType: 'updated', payload: i });
      await sim.runFor(25);
    }
    sim.setFaults({ dropRate: 0 });
    expect(await sim.runUntil(() => c.logsAgree(), { timeMsMax: 10_000 })).toBe(true);
    for (const id of c.ids) expect(c.coordinator(id).logSummary().count).toBe(40);
    const pulled = c.ids.reduce((n, id) => n + c.coordinator(id).stats().pulled, 0);
    expect(pulled).toBeGreaterThan(0);
  });

  it('marks a silent peer suspect (unreachable) then down, and a restart comes back up with a new incarnation', async () => {
    const { sim, c } = await cluster(3);
    await c.startAll();
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    const watcher = c.coordinator('p000');
    const statuses: string[] = [];
    watcher.on('member', (e) => {
      if (e.member.id === 'p002') statuses.push(`${e.member.status}@${e.member.incarnation}`);
    });
    const crashedAt = sim.now;
    c.crash('p002');
    await sim.runUntil(() => watcher.members().find((m) => m.id === 'p002')!.liveness === 'suspect', {
      timeMsMax: 5000,
      checkEveryMs: 10,
    });
    const suspectAt = sim.now;
    expect(suspectAt - crashedAt).toBeGreaterThanOrEqual(timing.suspectAfterMs - timing.statePeriodMs * 1.5);
    expect(watcher.members().find((m) => m.id === 'p002')!.status).toBe('unreachable');
    await sim.runUntil(() => watcher.members().find((m) => m.id === 'p002')!.status === 'down', {
      timeMsMax: 5000,
      checkEveryMs: 10,
    });
    expect(sim.now - crashedAt).toBeGreaterThanOrEqual(timing.downAfterMs - timing.statePeriodMs * 1.5);
    expect(sim.now - suspectAt).toBeGreaterThan(0);

    const restarted = await c.restart('p002');
    expect(restarted.incarnation).toBe(2);
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    expect(statuses).toEqual(
      ['unreachable@1', 'down@1', 'joining@2', 'up@2'].filter((s) => statuses.includes(s)),
    );
    expect(statuses.slice(0, 2)).toEqual(['unreachable@1', 'down@1']);
    expect(statuses.at(-1)).toBe('up@2');
  });

  it('a peer restarted with a wiped store under its old id is taken back, not ignored as an older incarnation', async () => {
    const { sim, c } = await cluster(3);
    await c.startAll();
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    // A few restarts first, so the incarnation others know is well past 1.
    for (let i = 0; i < 3; i++) {
      c.crash('p002');
      await c.restart('p002');
      await sim.runFor(500);
    }
    const known = c
      .coordinator('p000')
      .members()
      .find((m) => m.id === 'p002')!.incarnation;
    expect(known).toBeGreaterThan(1);
    c.crash('p002');
    await sim.runFor(100);
    const rebuilt = await c.restart('p002', { wiped: true });
    expect(rebuilt.incarnation).toBeGreaterThan(known);
    const backUp = () =>
      ['p000', 'p001'].every((id) => {
        const seen = c
          .coordinator(id)
          .members()
          .find((m) => m.id === 'p002');
        return seen?.incarnation === rebuilt.incarnation && seen.status === 'up';
      });
    expect(await sim.runUntil(backUp, { timeMsMax: 10_000 })).toBe(true);
  });

  it("a wiped peer's publishes wait for its first catch-up round, so they never reuse an id an earlier run published", async () => {
    const { sim, c } = await cluster(3);
    await c.startAll();
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    for (let i = 0; i < 3; i++) {
      await c.coordinator('p002').publish({ messageType: 'note', eventType: 'old', payload: { i } });
    }
    await sim.runFor(200);
    expect(c.coordinator('p000').logSummary().count).toBe(3);
    c.crash('p002');
    await sim.runFor(100);
    // Its Lamport clock restarts at 0: without the wait its first publish takes clock 1, an id p000 holds.
    const rebuilt = await c.restart('p002', { wiped: true, expectPeers: true });
    const published = rebuilt.publish({ messageType: 'note', eventType: 'new', payload: { i: 3 } });
    await sim.runFor(2000);
    const message = await published;
    expect(message.clock).toBeGreaterThan(3);
    for (const id of ['p000', 'p001']) {
      const coordinator = c.coordinator(id);
      expect(await sim.runUntil(() => coordinator.logSummary().count === 4, { timeMsMax: 5000 })).toBe(true);
      expect(coordinator.stats().idCollisions).toBe(0);
    }
    expect(sim.errors).toEqual([]);
  });

  it('a round cut short by syncRequestsMax does not count as caught up: the publish waits for joinWaitMs', async () => {
    const sim = new Simulation({ seed: 9, delayMsMin: 1, delayMsMax: 20 });
    const c = await SimCluster.create(sim, {
      peers: 2,
      timing: { ...timing, joinWaitMs: 3000 },
      // One request per round: the digest, never the pull.
      limits: { syncRequestsMax: 1 },
    });
    await c.startAll();
    await c.coordinator('p001').publish({ messageType: 'note', eventType: 'old' });
    await sim.runFor(200);
    c.crash('p001');
    await sim.runFor(100);
    const rebuilt = await c.restart('p001', { wiped: true, expectPeers: true });
    let done = false;
    const published = rebuilt.publish({ messageType: 'note', eventType: 'new' }).then(() => {
      done = true;
    });
    await sim.runFor(2500);
    expect(rebuilt.stats().syncRounds).toBeGreaterThan(0);
    expect(done).toBe(false);
    await sim.runFor(1000);
    expect(done).toBe(true);
    await published;
  });

  it('a peer whose own state record is lost but whose log is intact publishes at once, past its old messages', async () => {
    const sim = new Simulation({ seed: 6, delayMsMin: 1, delayMsMax: 20 });
    const env = await sim.addPeer('p000');
    const options = {
      ...env,
      cluster: 'sim',
      role: 'owner' as const,
      expectPeers: true,
      timing: { ...timing, joinWaitMs: 500 },
    };
    const first = createCoordinator(options);
    await settled(sim, first.start());
    // A new peer that reaches nobody waits joinWaitMs once.
    const old = first.publish({ messageType: 'note', eventType: 'old' });
    await sim.runFor(600);
    const before = await old;
    await settled(sim, first.stop());
    await env.store.delete(nodeStateKey('sim', 'p000'));
    const second = createCoordinator(options);
    await settled(sim, second.start());
    const published = second.publish({ messageType: 'note', eventType: 'new' });
    // Well inside joinWaitMs (500 ms): stored already, so it did not wait.
    await sim.runFor(10);
    expect(second.logSummary().count).toBe(2);
    expect((await published).clock).toBeGreaterThan(before.clock);
    await second.stop();
  });

  it('a wiped peer that reaches nobody publishes after joinWaitMs', async () => {
    const sim = new Simulation({ seed: 5, delayMsMin: 1, delayMsMax: 20 });
    const c = await SimCluster.create(sim, { peers: 1, timing: { ...timing, joinWaitMs: 3000 } });
    await c.startAll();
    c.crash('p000');
    const alone = await c.restart('p000', { wiped: true, expectPeers: true });
    let done = false;
    const published = alone.publish({ messageType: 'note', eventType: 'alone' }).then((m) => {
      done = true;
      return m;
    });
    await sim.runFor(2500);
    expect(done).toBe(false);
    await sim.runFor(1000);
    expect(done).toBe(true);
    expect((await published).from).toBe('p000');
  });

  it('a restarted peer keeps its log and its clock moves on from it', async () => {
    const { sim, c } = await cluster(2);
    await c.startAll();
    const m = await c.coordinator('p001').publish({ messageType: 'user', eventType: 'created' });
    await sim.runFor(100);
    c.crash('p001');
    const again = await c.restart('p001');
    expect(again.logSummary().count).toBe(1);
    const next = await again.publish({ messageType: 'user', eventType: 'deleted' });
    expect(next.clock).toBeGreaterThan(m.clock);
    expect(next.incarnation).toBe(2);
  });

  it('stop publishes exiting, and peers then see the peer go down', async () => {
    const { sim, c } = await cluster(3);
    await c.startAll();
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 5000 })).toBe(true);
    await settled(sim, c.coordinator('p001').stop());
    await sim.runFor(100);
    expect(
      c
        .coordinator('p000')
        .members()
        .find((m) => m.id === 'p001')!.status,
    ).toBe('exiting');
    await sim.runFor(timing.downAfterMs + 500);
    expect(
      c
        .coordinator('p000')
        .members()
        .find((m) => m.id === 'p001')!.status,
    ).toBe('down');
  });

  it('heartbeats less often as the cluster grows, so states received per peer stay flat', async () => {
    const scaled = { ...timing, heartbeatsPerPeriodTarget: 4, suspectAfterMs: 1000, downAfterMs: 3000 };
    const windowMs = 12_000;
    const measure = async (peers: number) => {
      const sim = new Simulation({ seed: 11, delayMsMin: 1, delayMsMax: 20 });
      const c = await SimCluster.create(sim, { peers, timing: scaled });
      await c.startAll(200);
      expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 30_000 })).toBe(true);
      await sim.runFor(5000);
      const sent0 = c.ids.map((id) => c.coordinator(id).stats().statesSent);
      const recv0 = c.ids.map((id) => sim.traffic(id).broadcastBytesReceived);
      await sim.runFor(windowMs);
      const sent = c.ids.reduce((n, id, i) => n + c.coordinator(id).stats().statesSent - sent0[i]!, 0);
      const recv = c.ids.reduce((n, id, i) => n + sim.traffic(id).broadcastBytesReceived - recv0[i]!, 0);
      await c.stopAll();
      expect(sim.errors).toEqual([]);
      return { sentPerPeer: sent / peers, receivedPerPeer: recv / peers };
    };
    const small = await measure(4); // scale 1: one state per statePeriodMs
    const large = await measure(24); // scale 6
    expect(small.sentPerPeer).toBeGreaterThan((windowMs / timing.statePeriodMs) * 0.8);
    expect(large.sentPerPeer).toBeLessThan(small.sentPerPeer / 4);
    // Unscaled, each of 24 peers would receive 23 states per period (8x the 4-peer cluster's 3).
    expect(large.receivedPerPeer / small.receivedPerPeer).toBeLessThan(1.7);
  });

  it('scales the failure detector with the heartbeat period: no live peer is suspected, a crashed one is, later', async () => {
    const scaled = { ...timing, heartbeatsPerPeriodTarget: 4 }; // 16 peers: scale 4, heartbeat ~800 ms
    const sim = new Simulation({ seed: 5, delayMsMin: 1, delayMsMax: 40, dropRate: 0.05 });
    const c = await SimCluster.create(sim, { peers: 16, timing: scaled });
    await c.startAll(200);
    expect(await sim.runUntil(() => c.membershipConverged(), { timeMsMax: 30_000 })).toBe(true);
    const watcher = c.coordinator('p000');
    const falseAlarms: string[] = [];
    for (const id of c.ids) {
      c.coordinator(id).on('member', (e) => {
        if (e.member.id !== 'p009' && e.member.liveness !== 'alive')
          falseAlarms.push(`${id} saw ${e.member.id}`);
      });
    }
    await sim.runFor(20_000);
    expect(falseAlarms).toEqual([]);

    const crashedAt = sim.now;
    c.crash('p009');
    const liveness = () => watcher.members().find((m) => m.id === 'p009')!.liveness;
    expect(await sim.runUntil(() => liveness() === 'suspect', { timeMsMax: 20_000, checkEveryMs: 10 })).toBe(
      true,
    );
    const scale = 16 / scaled.heartbeatsPerPeriodTarget;
    // At least suspectAfterMs * scale after the last heartbeat, which came at most 1.5 periods before the crash.
    expect(sim.now - crashedAt).toBeGreaterThanOrEqual(
      (timing.suspectAfterMs - timing.statePeriodMs * 1.5) * scale,
    );
    expect(await sim.runUntil(() => liveness() === 'down', { timeMsMax: 30_000, checkEveryMs: 10 })).toBe(
      true,
    );
    expect(sim.now - crashedAt).toBeGreaterThanOrEqual(
      (timing.downAfterMs - timing.statePeriodMs * 1.5) * scale,
    );
    expect(falseAlarms).toEqual([]);
    await c.stopAll();
  });

  it('publishes a changed address at once, without waiting for the next heartbeat', async () => {
    const sim = new Simulation({ seed: 9, delayMsMin: 1, delayMsMax: 5 });
    let addresses = ['/ip4/10.0.0.1/tcp/1'];
    // Two peers at a target of 0.01 heartbeats per period: scale 200, one heartbeat per ~40 s, as in a huge cluster.
    const slow = { ...timing, heartbeatsPerPeriodTarget: 0.01 };
    const [a, b] = await Promise.all([sim.addPeer('a'), sim.addPeer('b')]);
    const ca = createCoordinator({
      ...a!,
      cluster: 'c',
      role: 'owner',
      timing: slow,
      addresses: () => addresses,
    });
    const cb = createCoordinator({ ...b!, cluster: 'c', role: 'owner', timing: slow });
    await settled(sim, Promise.all([ca.start(), cb.start()]));
    await sim.runFor(500); // each hears the other's `up` state once its first catch-up round ends
    const heard = () => cb.members().find((m) => m.id === 'a')?.state.addresses;
    expect(heard()).toEqual(['/ip4/10.0.0.1/tcp/1']);
    addresses = ['/ip4/10.0.0.2/tcp/1'];
    await sim.runFor(1000);
    expect(heard()).toEqual(['/ip4/10.0.0.2/tcp/1']);
    await Promise.all([ca.stop(), cb.stop()]);
  });

  it('rejects a heartbeatsPerPeriodTarget that is not a positive number', async () => {
    const sim = new Simulation({ seed: 1 });
    const env = await sim.addPeer('a');
    for (const heartbeatsPerPeriodTarget of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() =>
        createCoordinator({ ...env, cluster: 'c', role: 'owner', timing: { heartbeatsPerPeriodTarget } }),
      ).toThrow(InvalidArgumentError);
    }
  });
});
