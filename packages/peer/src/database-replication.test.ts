/**
 * D records drive per-database replication in `createPeer`: three real
 * in-process peers over libp2p, every slot owned by all three. A database
 * created with N=2 and consistency `one` is written to exactly its first
 * two owners by a peer that never saw it, database 0 to all three, and
 * document keys follow the same settings. (N=5 on five owners, and the
 * cache's refresh, are tested on replication's in-process network:
 * apps/relay/src/http/tenants.test.ts, apps/relay/src/backend/select-database.test.ts,
 * database-settings.test.ts; five libp2p peers in one process were too slow here.)
 */
import { keySlot } from '@tessera/core';
import { objectKey } from '@tessera/documents';
import { QuorumNotReachedError } from '@tessera/replication';
import { StaticPlacement } from '@tessera/replication/testing';
import { openMemoryStore, type Store } from '@tessera/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeer, kvRecordKey, type Peer } from './index.ts';
import { tcpAddress, testReplication, testSlotMap, testTiming } from './testing/replication-cluster.ts';
import { waitFor } from './testing/wait.ts';

const CLUSTER = 'db-replication';
const cleanups: (() => Promise<void>)[] = [];
let peers: Peer[] = [];
const stores = new Map<string, Store>();

async function startPeer(bootstrap: string[]): Promise<Peer> {
  const storage = await openMemoryStore();
  const peer = await createPeer({
    storage,
    cluster: CLUSTER,
    bootstrap,
    // Slow failure detection: five peers share one event loop on a loaded machine, and an owner
    // marked down gets hints instead of writes. No slot map is proposed (the placement is fixed).
    timing: { ...testTiming, suspectAfterMs: 20_000, downAfterMs: 60_000 },
    bootstrapRetry: { delayMsMin: 100, delayMsMax: 1000 },
    memberDialing: { intervalMs: 500 },
    // Generous request timeouts: five peers in one process on a loaded machine.
    // Periodic anti-entropy off: over every slot of five owners it is most of the CPU here, and
    // placement is what is checked (writes reach every owner directly, or by hint replay).
    replication: {
      ...testReplication,
      repair: { ...testReplication.repair, antiEntropyPeriodMs: 3_600_000 },
      limits: { requestTimeoutMs: 15_000, repairTimeoutMs: 15_000 },
    },
    slotMap: { ...testSlotMap, timing: { ...testSlotMap.timing, settleMs: 3_600_000 } },
  });
  stores.set(peer.id, storage);
  cleanups.push(async () => {
    await peer.stop();
    await storage.close();
  });
  return peer;
}

/**
 * An operation, retried (bounded) on a quorum miss: on a loaded machine an owner in this process
 * can miss the request timeout. What a test checks is in the result (`required`), not the first try.
 */
async function retried<T>(operation: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof QuorumNotReachedError) || attempt === 5) throw error;
    }
  }
}

/** Peers whose own store holds the record (what was replicated where, not what a quorum read says). */
async function holders(recordKey: Uint8Array): Promise<string[]> {
  const held: string[] = [];
  for (const peer of peers) if ((await stores.get(peer.id)!.get(recordKey)) !== undefined) held.push(peer.id);
  return held.sort();
}

/** The first `n` owners of the key's slot in the fixed placement. */
function firstOwners(peer: Peer, key: string, n: number): string[] {
  return peer.placement.lookup(keySlot(key)).owners.slice(0, n).sort();
}

beforeAll(async () => {
  const first = await startPeer([]);
  const seed = tcpAddress(first);
  const rest = await Promise.all([1, 2].map(() => startPeer([seed])));
  peers = [first, ...rest];
  // Every slot owned by all three (a fixed map; the coordinator's slot map is not what this tests).
  const owners = peers.map((peer) => peer.id).sort();
  for (const peer of peers) peer.placement.slots = new StaticPlacement(owners, 3);
  await waitFor(
    () =>
      peers.every((peer) =>
        owners.every((id) => peer.members().find((m) => m.id === id)?.liveness === 'alive'),
      ),
    { what: 'three owners alive on every peer', timeoutMs: 120_000 },
  );
}, 150_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('per-database replication from D records', () => {
  it('a database created with N=2 and consistency one is written to its two owners; database 0 to three', async () => {
    const [a, b, c] = peers as [Peer, Peer, Peer];
    await retried(() => a.database('pair').setOptions({ replicationFactor: 2, consistency: 'one' }));
    // b has never seen the database: its first write loads the D record before it is sent.
    const pair = await retried(() => b.put('k', 'v', { database: 'pair' }));
    expect(pair.required).toBe(1); // the database's consistency (the peer default is quorum: 2)
    await waitFor(async () => (await holders(kvRecordKey('k', 'pair'))).length >= 2, {
      what: 'the pair record on its owners',
      timeoutMs: 60_000,
    });
    expect(await holders(kvRecordKey('k', 'pair'))).toEqual(firstOwners(b, 'k', 2));

    const plain = await retried(() => b.put('k', 'v'));
    expect(plain.required).toBe(2);
    const all = peers.map((peer) => peer.id).sort();
    await waitFor(async () => JSON.stringify(await holders(kvRecordKey('k'))) === JSON.stringify(all), {
      what: 'the database-0 record on all three owners',
      timeoutMs: 60_000,
    });

    // Document keys of the database follow its D record too.
    await waitFor(async () => (await c.databaseReplication('pair')).replicationFactor === 2, {
      what: "c's read of the pair D record",
      timeoutMs: 60_000,
    });
    expect(c.replicator.replicationOf(objectKey('pair', 'users', 'u1'))).toEqual({
      replicationFactor: 2,
      consistency: 'one',
    });
    expect(await c.databaseReplication(0)).toEqual({ replicationFactor: 3, consistency: 'quorum' });
  }, 150_000);
});
