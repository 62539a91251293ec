import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ReadResult } from '@tessera/replication';
import { History, StaticPlacement } from '@tessera/replication/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Peer } from './index.ts';
import { type PeerProcess, spawnPeerProcess } from './testing/peer-process-control.ts';
import {
  historyResult,
  historyStep,
  startTestPeer,
  tcpAddress,
  testReplication,
  testTiming,
} from './testing/replication-cluster.ts';
import { waitFor } from './testing/wait.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const KEYS = Array.from({ length: 12 }, (_, i) => `key-${i}`);

/** Clients that write unique values and read them back through one peer each, logged in `history`. */
function startLoad(history: History, clients: readonly { name: string; peer: Peer }[]) {
  let running = true;
  const loops = clients.map(async ({ name, peer }, c) => {
    let seq = 0;
    while (running) {
      const key = KEYS[(seq * 5 + c) % KEYS.length]!;
      const value = `${name}-${seq++}`;
      await historyStep(history, name, peer, key, value, KEYS[(seq * 7 + c) % KEYS.length]!);
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

describe('an owner process is SIGKILLed under a running write load (N=3, W=2, R=2)', () => {
  it('loses no acknowledged write, keeps reads current, and heals the restarted owner', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'tessera-repl-kill-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const a = await startTestPeer(cleanups, 'repl-kill', []);
    const seed = tcpAddress(a);
    const b = await startTestPeer(cleanups, 'repl-kill', [seed]);
    const config = {
      cluster: 'repl-kill',
      bootstrap: [seed],
      dataDir,
      timing: testTiming,
      replication: testReplication,
    };
    let c: PeerProcess = await spawnPeerProcess(config);
    cleanups.push(() => c.kill());
    const cId = c.id;
    const owners = [a.id, b.id, cId].sort();
    // A fixed owner set on purpose: this test is about hints and repair of a returning owner; with the
    // slot map, the killed owner would be failed over (slot-map.test.ts covers ownership changes).
    for (const peer of [a, b]) peer.placement.slots = new StaticPlacement(owners, 3);
    await c.call({ cmd: 'placement', peers: owners, ownersPerSlot: 3 });
    const liveness = (peer: Peer, id: string) => peer.members().find((m) => m.id === id)?.liveness;
    await waitFor(() => [a, b].every((peer) => owners.every((id) => liveness(peer, id) === 'alive')), {
      what: 'all owners alive',
    });

    const history = new History();
    const load = startLoad(history, [
      { name: 'a1', peer: a },
      { name: 'a2', peer: a },
      { name: 'b1', peer: b },
      { name: 'b2', peer: b },
    ]);
    const ackedAtLeast = (n: number) => () => history.acknowledgedWrites >= n;
    await waitFor(ackedAtLeast(40), { what: '40 acknowledged writes before the kill' });

    await c.kill();
    const ackedAtKill = history.acknowledgedWrites;
    await waitFor(() => liveness(a, cId) === 'down' && liveness(b, cId) === 'down', {
      what: 'a and b to mark the killed owner down',
    });
    await waitFor(ackedAtLeast(ackedAtKill + 40), { what: '40 more acknowledged writes with an owner down' });
    expect(a.replicator.hintCount + b.replicator.hintCount).toBeGreaterThan(0);
    expect(a.underReplicatedSlots().count).toBeGreaterThan(0);

    c = await spawnPeerProcess(config);
    expect(c.id).toBe(cId);
    await c.call({ cmd: 'placement', peers: owners, ownersPerSlot: 3 });
    await waitFor(() => liveness(a, cId) === 'alive' && liveness(b, cId) === 'alive', {
      what: 'the restarted owner to be alive again',
    });
    const ackedAtRestart = history.acknowledgedWrites;
    await waitFor(ackedAtLeast(ackedAtRestart + 20), { what: '20 writes after the restart' });
    await load.stop();

    // Hint replay and anti-entropy (on their periods) bring the restarted owner back.
    await waitFor(
      async () =>
        a.underReplicatedSlots().count === 0 &&
        b.underReplicatedSlots().count === 0 &&
        a.replicator.hintCount === 0 &&
        b.replicator.hintCount === 0 &&
        (await c.call<{ count: number }>({ cmd: 'underReplicated' })).count === 0,
      { what: 'no under-replicated slot and no hint left', timeoutMs: 60_000, intervalMs: 250 },
    );
    // A further pass finds nothing to repair between the restarted owner and the others.
    const pass = await a.replicator.antiEntropy([cId]);
    expect(pass.unreachable).toEqual([]);
    expect(pass.differing).toBe(0);

    const final = new Map<string, ReadResult>();
    for (const key of KEYS) final.set(key, historyResult(await b.get(key, { consistency: 'all' })));
    expect(history.check(final, { readYourWrites: true })).toEqual([]);
    expect(history.acknowledgedWrites).toBeGreaterThanOrEqual(100);
    expect(history.completedReads).toBeGreaterThan(0);
  }, 180_000);
});
