/**
 * D records drive per-database replication on real in-process peers over
 * libp2p: a database created with N=5 is written to 5 owners by a peer that
 * never saw it before, other databases keep the peer default N=3, a
 * database's default consistency applies, and a changed D record reaches
 * other peers through their background refresh.
 */
import { keySlot } from '@tessera/core';
import { objectKey } from '@tessera/documents';
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
    replication: { ...testReplication, limits: { requestTimeoutMs: 15_000, repairTimeoutMs: 15_000 } },
    slotMap: { ...testSlotMap, timing: { ...testSlotMap.timing, settleMs: 3_600_000 } },
  });
  stores.set(peer.id, storage);
  cleanups.push(async () => {
    await peer.stop();
    await storage.close();
  });
  return peer;
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
  const rest = await Promise.all([1, 2, 3, 4].map(() => startPeer([seed])));
  peers = [first, ...rest];
  // Every slot owned by all five (a fixed map; the coordinator's slot map is not what this tests).
  const owners = peers.map((peer) => peer.id).sort();
  for (const peer of peers) peer.placement.slots = new StaticPlacement(owners, 5);
  await waitFor(
    () =>
      peers.every((peer) =>
        owners.every((id) => peer.members().find((m) => m.id === id)?.liveness === 'alive'),
      ),
    { what: 'five owners alive on every peer', timeoutMs: 120_000 },
  );
}, 150_000);

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('per-database replication from D records', () => {
  it('a database created with replicationFactor 5 is written to 5 owners; one without a D record to 3', async () => {
    const [a, b, c] = peers as [Peer, Peer, Peer];
    await a.database('wide').setOptions({ replicationFactor: 5 });
    // b has never seen the database: its first write loads the D record before it is sent.
    const wide = await b.put('k', 'v', { database: 'wide' });
    expect(wide.required).toBe(3); // quorum of 5 (of 3 it would be 2)
    const all = peers.map((peer) => peer.id).sort();
    await waitFor(
      async () => JSON.stringify(await holders(kvRecordKey('k', 'wide'))) === JSON.stringify(all),
      {
        what: 'the wide record on all five owners',
        timeoutMs: 60_000,
      },
    );
    expect(await c.get('k', { database: 'wide' })).toMatchObject({ found: true, value: 'v', required: 3 });

    const plain = await b.put('k', 'v');
    expect(plain.required).toBe(2);
    const three = firstOwners(b, 'k', 3);
    await waitFor(async () => (await holders(kvRecordKey('k'))).length >= 3, {
      what: 'the database-0 record on its owners',
      timeoutMs: 60_000,
    });
    expect(await holders(kvRecordKey('k'))).toEqual(three);
    expect(await c.databaseReplication(0)).toEqual({ replicationFactor: 3, consistency: 'quorum' });
  }, 150_000);

  it("a database's default consistency applies to writes and reads that name none", async () => {
    const [a, , , d] = peers as [Peer, Peer, Peer, Peer];
    await a.database('fast').setOptions({ replicationFactor: 2, consistency: 'one' });
    expect((await d.put('x', 1, { database: 'fast' })).required).toBe(1);
    expect(await d.get('x', { database: 'fast' })).toMatchObject({ found: true, value: 1, required: 1 });
    await waitFor(async () => (await holders(kvRecordKey('x', 'fast'))).length >= 2, {
      what: 'the fast record on its two owners',
      timeoutMs: 60_000,
    });
    expect(await holders(kvRecordKey('x', 'fast'))).toEqual(firstOwners(d, 'x', 2));
  }, 150_000);

  it('a changed D record reaches a peer that cached the old one, and covers document collections', async () => {
    const [a, b, , , e] = peers as [Peer, Peer, Peer, Peer, Peer];
    const shop = a.database('shop');
    await shop.setOptions({ replicationFactor: 4 });
    const users = await shop.collection('users', { fields: { id: 'string' }, primaryKey: 'id' });
    await users.upsert({ id: 'u1' });
    const key = objectKey('shop', 'users', 'u1');
    expect((await e.databaseReplication('shop')).replicationFactor).toBe(4);
    expect(e.replicator.replicationOf(key).replicationFactor).toBe(4);
    expect((await b.put('k', 'v', { database: 'shop' })).required).toBe(3); // quorum of 4

    await shop.setOptions({ replicationFactor: 2 });
    // No one tells e: its cached copy is refreshed in the background after databaseRefreshMs.
    await waitFor(async () => (await e.databaseReplication('shop')).replicationFactor === 2, {
      what: "e's refresh of the shop D record",
      timeoutMs: 60_000,
    });
    expect(e.replicator.replicationOf(key).replicationFactor).toBe(2);
  }, 150_000);
});
